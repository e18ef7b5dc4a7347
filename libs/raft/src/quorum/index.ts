export * from './types';
export * from './majority';
export * from './joint';
