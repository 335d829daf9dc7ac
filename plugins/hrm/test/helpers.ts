import { expect } from 'vitest';
import type { TestApp } from '@rapport/testing';

type Client = TestApp['admin'];

/** A settable clock for the plugin: tests move time instead of waiting. */
export function testClock(start = '2026-01-05T09:00:00.000Z') {
  let now = new Date(start);
  return {
    now: () => new Date(now),
    set(iso: string) {
      now = new Date(iso);
    },
    advanceMinutes(minutes: number) {
      now = new Date(now.getTime() + minutes * 60_000);
    },
  };
}

export async function ok<T = any>(response: Promise<{ status: number; body: any; text: string }>, status = 200): Promise<T> {
  const res = await response;
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
  return res.body as T;
}

export async function createRole(t: TestApp, name: string, permissions: string[]): Promise<void> {
  const res = await t.admin.post('/api/v1/roles', { name, permissions });
  expect(res.status, res.text).toBe(201);
}

export async function hire(admin: Client, body: { name: string; unitId: string; managerId?: string | null; positionId?: string; start?: string }): Promise<string> {
  const employee = await ok(
    admin.post('/api/v1/hrm/employees', {
      person: { name: body.name },
      unitId: body.unitId,
      positionId: body.positionId,
      managerId: body.managerId ?? null,
      start: body.start ?? '2025-01-01T00:00:00.000Z',
    }),
    201,
  );
  return employee.id;
}

export async function unit(admin: Client, name: string, parentId?: string): Promise<string> {
  return (await ok(admin.post('/api/v1/hrm/units', { name, parentId: parentId ?? null }), 201)).id;
}
