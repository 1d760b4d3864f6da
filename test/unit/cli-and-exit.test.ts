import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../../src/cli/args.js';
import { EXIT, exitCodeOfChild } from '../../src/exit-codes.js';
import { findProgram } from '../../src/supervise/find-program.js';
import { tempDir } from '../support/cleanup.js';

describe('command line', () => {
  it.each([
    [[], 'run'],
    [['--print'], 'print'],
    [['--check'], 'check'],
    [['--help'], 'help'],
    [['-V'], 'version'],
  ])('%j -> %s', (args, mode) => {
    expect(parseArgs(args)).toEqual({ ok: true, mode });
  });

  it('a one-off command after --, kept verbatim', () => {
    expect(parseArgs(['--', 'flask', '--app', 'x', '--', 'y'])).toEqual({
      ok: true,
      mode: 'run',
      command: ['flask', '--app', 'x', '--', 'y'],
    });
    expect(parseArgs(['--print', '--', 'true'])).toEqual({ ok: true, mode: 'print', command: ['true'] });
  });

  it.each([
    [['--frobnicate'], /unknown option "--frobnicate"/],
    [['flask'], /unexpected argument "flask".*after --/],
    [['--'], /-- must be followed by a command/],
    [['--', ''], /-- must be followed by a command/],
    [['--print', '--check'], /cannot be combined/],
  ])('%j is a usage error', (args, message) => {
    const cli = parseArgs(args);
    expect(cli.ok).toBe(false);
    if (!cli.ok) expect(cli.problem).toMatch(message);
  });
});

describe('exit codes', () => {
  it('the child code passes through', () => {
    for (const code of [0, 1, 3, 4, 42, 255]) expect(exitCodeOfChild(code, undefined)).toBe(code);
  });
  it('a signal death is 128+N', () => {
    expect(exitCodeOfChild(undefined, 'SIGKILL')).toBe(137);
    expect(exitCodeOfChild(undefined, 'SIGTERM')).toBe(143);
    expect(exitCodeOfChild(undefined, 'SIGSEGV')).toBe(139);
    expect(exitCodeOfChild(undefined, 'SIGQUIT')).toBe(131);
  });
  it("the supervisor's own codes are distinct from each other", () => {
    expect(new Set(Object.values(EXIT)).size).toBe(Object.values(EXIT).length);
    expect(EXIT).toMatchObject({ CONFIG: 78, INTERNAL: 70, USAGE: 64, NOT_FOUND: 127, NOT_EXECUTABLE: 126 });
  });
});

describe('finding the program like execvp', () => {
  const dir = tempDir();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'runnable'), '#!/bin/sh\n');
  chmodSync(join(bin, 'runnable'), 0o755);
  writeFileSync(join(bin, 'plain'), 'data');
  chmodSync(join(bin, 'plain'), 0o644);
  mkdirSync(join(bin, 'adir'));

  it('finds an executable on PATH', () => {
    expect(findProgram('runnable', `/nonexistent:${bin}`)).toEqual({ ok: true, path: join(bin, 'runnable') });
  });
  it('missing -> 127, naming the program', () => {
    expect(findProgram('nope', bin)).toEqual({ ok: false, exitCode: 127, reason: 'nope is not on PATH' });
    expect(findProgram(join(bin, 'nope'), bin)).toMatchObject({ ok: false, exitCode: 127 });
  });
  it('not executable -> 126 (unless root, who may run anything with an x bit only)', () => {
    const found = findProgram(join(bin, 'plain'), bin);
    expect(found).toMatchObject({ ok: false, exitCode: 126 });
  });
  it('a directory -> 126', () => {
    expect(findProgram(join(bin, 'adir'), bin)).toMatchObject({ ok: false, exitCode: 126, reason: expect.stringContaining('a directory') });
    expect(findProgram('adir', bin)).toMatchObject({ ok: false, exitCode: 126 });
  });
});
