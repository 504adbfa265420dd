import { describe, expect, it } from 'vitest';
import { colorLevel, formatDuration } from '../../src/ui/output.js';

const tty = { isTTY: true } as NodeJS.WriteStream;
const pipe = { isTTY: false } as NodeJS.WriteStream;

describe('colors', () => {
  it('respects NO_COLOR, FORCE_COLOR and the terminal', () => {
    expect(colorLevel(tty, {})).toBe(1);
    expect(colorLevel(pipe, {})).toBe(0);
    expect(colorLevel(tty, { NO_COLOR: '1' })).toBe(0);
    expect(colorLevel(tty, { TERM: 'dumb' })).toBe(0);
    expect(colorLevel(pipe, { FORCE_COLOR: '1' })).toBe(1);
    expect(colorLevel(tty, { FORCE_COLOR: '0' })).toBe(0);
  });

  it('formats durations', () => {
    expect(formatDuration(12.4)).toBe('12ms');
    expect(formatDuration(2345)).toBe('2.3s');
  });
});
