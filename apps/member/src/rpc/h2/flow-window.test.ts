import { ErrorCode } from '@keel/h2';
import { ReceiveWindow, SendWindow } from './flow-window';

describe('flow-control windows', () => {
  test('a receive window refuses an overrun and gives back consumed bytes in batches of half its size', () => {
    const window = new ReceiveWindow(1000);
    expect(window.receive(600)).toBe(true);
    expect(window.receive(401)).toBe(false); // 400 left
    expect(window.consume(300)).toBe(0); // below half: nothing owed yet
    expect(window.consume(300)).toBe(600); // WINDOW_UPDATE of 600
    expect(window.receive(1000)).toBe(true); // 400 + 600
    expect(window.receive(1)).toBe(false);
  });

  test('a send window may go negative and refuses growth past 2^31 - 1', () => {
    const window = new SendWindow(100);
    window.consume(100);
    expect(window.grow(-50)).toBeUndefined();
    expect(window.bytes).toBe(-50);
    expect(window.grow(60)).toBeUndefined();
    expect(window.bytes).toBe(10);
    expect(window.grow(2 ** 31 - 1)).toBe(ErrorCode.FlowControlError);
    expect(window.bytes).toBe(10);
  });
});
