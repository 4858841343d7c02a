/**
 * Code examples of the documentation, as data: the ```ts blocks of Markdown files and of
 * TSDoc comments. See examples.test.ts for the conventions (`ts`, `ts run`, `ts fragment`,
 * `ts errors`).
 */

/** What the test does with a block. */
export type SnippetMode = "check" | "run" | "errors";

/** One code example. */
export interface Snippet {
  /** file it comes from, relative to the repository */
  source: string;
  /** 1-based index among the checked blocks of that file */
  index: number;
  /** 1-based line of the opening fence */
  line: number;
  code: string;
  mode: SnippetMode;
  /** `errors` mode: the lines of the ```text block right after it (the expected tsc output) */
  expected?: string[];
}

interface Block {
  line: number;
  info: string;
  body: string[];
  /** a `<!-- not checked -->` comment is on the line before the fence */
  notChecked: boolean;
}

const FENCE = /^(\s*)```(.*)$/;

/** Split Markdown into fenced blocks (indented fences included; their indentation removed). */
function readBlocks(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? "");
    if (!open) continue;
    const indent = open[1]?.length ?? 0;
    const info = (open[2] ?? "").trim();
    const previous = lines.slice(0, i).findLast((l) => l.trim() !== "") ?? "";
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] ?? ""); j++)
      body.push((lines[j] ?? "").slice(indent));
    blocks.push({ line: i + 1, info, body, notChecked: /<!--\s*not checked\s*-->/.test(previous) });
    i = j;
  }
  return blocks;
}

/**
 * The TypeScript blocks of a Markdown file. Blocks tagged `ts fragment` or preceded by
 * `<!-- not checked -->` are counted in `skipped`, not returned.
 */
export function extractMarkdown({ source, text }: { source: string; text: string }): {
  snippets: Snippet[];
  skipped: number;
} {
  const blocks = readBlocks(text.split("\n"));
  const snippets: Snippet[] = [];
  let skipped = 0;
  blocks.forEach((b, i) => {
    const [lang, ...flags] = b.info.split(/\s+/);
    if (lang !== "ts" && lang !== "typescript") return;
    if (b.notChecked || flags.includes("fragment")) {
      skipped++;
      return;
    }
    const mode: SnippetMode = flags.includes("errors")
      ? "errors"
      : flags.includes("run")
        ? "run"
        : "check";
    const next = blocks[i + 1];
    snippets.push({
      source,
      index: snippets.length + 1,
      line: b.line,
      code: b.body.join("\n"),
      mode,
      ...(mode === "errors" ? { expected: next?.info === "text" ? next.body : [] } : {}),
    });
  });
  return { snippets, skipped };
}

/** `@example call(...)` on one line: checked when it starts with a call or `new`. */
const INLINE_EXAMPLE = /@example\s+((?:new\s+)?[A-Za-z_$][\w$]*(?:\.[\w$]+)*\(.*)$/;

/**
 * The examples of the TSDoc comments of a source file: every ```ts block inside a
 * `/** … *\/` comment (the leading ` * ` stripped), and one-line `@example f(...)` calls.
 */
export function extractTsdoc({ source, text }: { source: string; text: string }): Snippet[] {
  const snippets: Snippet[] = [];
  for (const m of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const first = text.slice(0, m.index).split("\n").length;
    const lines = m[0]
      .split("\n")
      .map((l) => l.replace(/^\s*\/\*\*\s?/, "").replace(/\s*\*\/$/, ""))
      .map((l) => l.replace(/^\s*\* ?/, ""));
    const add = (line: number, code: string) =>
      snippets.push({ source, index: snippets.length + 1, line, code, mode: "check" });
    for (const b of readBlocks(lines)) {
      if (/^ts(\s|$)/.test(b.info) && !b.info.includes("fragment"))
        add(first + b.line - 1, b.body.join("\n"));
    }
    lines.forEach((l, i) => {
      const inline = INLINE_EXAMPLE.exec(l);
      if (inline?.[1]) add(first + i, inline[1]);
    });
  }
  return snippets;
}
