import type { TraceEvent } from '../../../sim/trace.js';

/** A store grant (acquire or renew) as the simulator traces it. */
export const grant = (t: number, kind: 'acquire' | 'renew', holder: string, token: number, ok = true): TraceEvent => ({
  t,
  actor: holder,
  kind,
  data: { ok, holder: ok ? holder : null, token, expiresInMs: 180_000 },
});
