export * from './changer';
export * from './restore';
