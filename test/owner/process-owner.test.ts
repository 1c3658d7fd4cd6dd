import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessOwner, readProcessStartTime, readProcessStat } from '../../src/owner/process-owner.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

function sleeper(command = 'sleep'): ChildProcess {
  const child = spawn(command, ['30'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

async function poll<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

describe('readProcessStartTime', () => {
  it('reads field 22 after the last ")" even when the command name has spaces and parentheses', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'process-owner-'));
    dirs.push(dir);
    const odd = join(dir, 'a) b (c');
    await symlink('/bin/sleep', odd);
    const child = sleeper(odd);
    await new Promise((done) => child.once('spawn', done));
    const stat = await poll('the exec', 2000, () => {
      const s = readProcessStat(child.pid!);
      return s !== null && s.state !== 'R' ? s : undefined;
    });
    expect(stat.state).toBe('S');
    expect(readProcessStartTime(child.pid!)).toBe(stat.startTime);
    expect(stat.startTime).toBeGreaterThanOrEqual(readProcessStartTime(process.pid)!);
    expect(readProcessStartTime(2 ** 22 + 1)).toBeNull(); // above pid_max: never a process
  });
});

describe('ProcessOwner', () => {
  it('is alive for a live child and dead once it has exited and been reaped', async () => {
    const child = sleeper();
    await new Promise((done) => child.once('spawn', done));
    const owner = ProcessOwner.of(child.pid!);
    expect(owner.startTime).not.toBeNull();
    expect(owner.check()).toEqual({ alive: true });
    child.kill('SIGKILL');
    await new Promise((done) => child.once('exit', done));
    expect(owner.check()).toMatchObject({ alive: false, reason: expect.stringContaining('is gone') });
  });

  it('is alive while stopped (SIGSTOP), a frozen owner is not a dead one', async () => {
    const child = sleeper();
    await new Promise((done) => child.once('spawn', done));
    const owner = ProcessOwner.of(child.pid!);
    child.kill('SIGSTOP');
    await poll('the stop', 2000, () => (readProcessStat(child.pid!)?.state === 'T' ? true : undefined));
    expect(owner.check()).toEqual({ alive: true });
  });

  it('is dead when the PID names a process with another start time (PID reuse)', async () => {
    const child = sleeper();
    await new Promise((done) => child.once('spawn', done));
    const startTime = readProcessStartTime(child.pid!)!;
    expect(new ProcessOwner(child.pid!, startTime).check()).toEqual({ alive: true });
    expect(new ProcessOwner(child.pid!, startTime - 1).check()).toMatchObject({
      alive: false,
      reason: expect.stringContaining('the PID now names another process'),
    });
  });

  it('is dead when the owner is a zombie that was not reaped yet', async () => {
    // sh starts a short sleep in the background, prints its pid, then becomes a long sleep that never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(parent);
    const line = await new Promise<string>((done) => createInterface({ input: parent.stdout! }).once('line', done));
    const pid = Number(line);
    const owner = ProcessOwner.of(pid);
    expect(owner.startTime).not.toBeNull();
    const status = await poll('the zombie', 3000, () => {
      const s = owner.check();
      return s.alive ? undefined : s;
    });
    expect(readProcessStat(pid)?.state).toBe('Z');
    expect(status).toMatchObject({ alive: false, reason: expect.stringContaining('zombie') });
  });
});
