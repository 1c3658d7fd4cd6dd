/**
 * Section 8: each option's trap, grouped by the seed's options, with the runs that show it or
 * rule it out.
 */
import { strategyRef } from './prose.js';
import { inOptionOrder, optionLabel, optionOf } from './seed-options.js';
import type { Trap } from './traps.js';

function verdict(trap: Trap): string {
  if (trap.shown === null) return 'No scenario given exercises it.';
  if (!trap.isTrap) return trap.shown ? '**What the runs hold against it:**' : 'Nothing in the runs holds against it:';
  return trap.shown ? '**The runs show the trap:**' : 'The runs do not show the trap:';
}

export function optionsDetailSection(traps: readonly Trap[]): string {
  const out = ["## 8. Each option's trap, and the runs that show it", ''];
  let group: string | undefined;
  for (const trap of inOptionOrder(traps, (t) => t.spec)) {
    const option = optionOf(trap.spec);
    const label = option === undefined ? 'Strategies none of the options lists' : optionLabel(option).replace(/^./, (c) => c.toUpperCase());
    if (label !== group) {
      out.push(`### ${label}`, '');
      group = label;
    }
    out.push(`- ${strategyRef(trap.spec.name)}: ${trap.claim} ${verdict(trap)}`);
    for (const e of trap.evidence) out.push(`  - ${e}`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}
