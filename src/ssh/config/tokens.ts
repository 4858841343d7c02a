/** `%` tokens of ssh_config(5) TOKENS, expanded in one pass (`%%` is a literal `%`). */
import { AiorchError } from "../../errors.ts";

/**
 * Expand `%x` tokens of `text` from `tokens` (letter -> value). An unknown or dangling
 * token throws `SSH_CONFIG` naming `where` (`file:line`).
 */
export function expandTokens({
  text,
  tokens,
  where,
}: {
  text: string;
  tokens: Readonly<Record<string, string>>;
  where: string;
}): string {
  return text.replace(/%(.?)/gs, (whole, letter: string) => {
    if (letter === "%") return "%";
    const value = Object.hasOwn(tokens, letter) ? tokens[letter] : undefined;
    if (value !== undefined) return value;
    const at = /^(.*):(\d+)$/.exec(where);
    throw new AiorchError(
      "SSH_CONFIG",
      `${where ? `${where}: ` : ""}${letter ? `token ${whole}` : "a lone %"} is not supported in ${JSON.stringify(text)} (known: ${Object.keys(
        tokens,
      )
        .map((k) => `%${k}`)
        .join(" ")} %%)`,
      at ? { file: at[1] as string, line: Number(at[2]) } : {},
    );
  });
}
