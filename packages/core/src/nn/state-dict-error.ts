/** One key whose stored shape differs from the model's. */
export interface ShapeMismatch {
  key: string;
  expected: number[];
  got: number[];
}

/**
 * Raised by `Module.loadStateDict` when keys or shapes do not match; lists every missing,
 * unexpected and mis-shaped key so a user can see at once which config the weights belong to.
 */
export class StateDictError extends Error {
  constructor(
    readonly source: string,
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: ShapeMismatch[],
    hint?: string,
  ) {
    super(StateDictError.format(source, missing, unexpected, mismatched, hint));
    this.name = 'StateDictError';
  }

  private static format(source: string, missing: string[], unexpected: string[], mismatched: ShapeMismatch[], hint?: string): string {
    const lines = [`${source}: state dict does not match the model`];
    const list = (title: string, items: string[]) => {
      if (!items.length) return;
      lines.push(`  ${title} (${items.length}):`);
      for (const item of items.slice(0, 10)) lines.push(`    ${item}`);
      if (items.length > 10) lines.push(`    ... and ${items.length - 10} more`);
    };
    list('shape mismatch', mismatched.map((m) => `${m.key}: model expects [${m.expected.join(', ')}], file has [${m.got.join(', ')}]`));
    list('missing keys', missing);
    list('unexpected keys', unexpected);
    if (hint) lines.push(`  hint: ${hint}`);
    return lines.join('\n');
  }
}
