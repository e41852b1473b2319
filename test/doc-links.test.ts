// Every relative link in README.md and docs/*.md reaches a file of this repository and, when it names
// an anchor, a heading of that file (slugged as GitHub does). Pure: reads the files, starts nothing.
// It exists because the docs moved out of one long README and link to each other's sections.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");

/** The text a reader sees, without fenced code blocks and inline code (a link there is not a link). */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor for a heading: rendered text, lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/(^|[^\p{L}\p{N}])_(.+?)_(?=[^\p{L}\p{N}]|$)/gu, "$1$2")
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a file's headings make, the second of a name with `-1` as GitHub numbers them. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  const withoutFences = markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");
  for (const [, text = ""] of withoutFences.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = slug(text);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

/** What is wrong with each relative link of one file: a target outside the repository, missing, or without its anchor. */
function linkProblems(file: string, read: (path: string) => string | undefined): string[] {
  const problems: string[] = [];
  const text = read(file) ?? "";
  for (const [, target = ""] of prose(text).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // another site: not this repository's to check
    const [path = "", anchor] = target.split("#", 2);
    const resolved = path === "" ? file : join(dirname(file), decodeURIComponent(path));
    if (relative(".", resolved).startsWith("..")) {
      problems.push(`${file}: ${target} points outside the repository`);
      continue;
    }
    const linked = read(resolved);
    if (linked === undefined) {
      problems.push(`${file}: ${target} names no file`);
    } else if (anchor !== undefined && resolved.endsWith(".md") && !anchors(linked).has(anchor)) {
      problems.push(`${file}: ${target} names no heading of ${resolved}`);
    }
  }
  return problems;
}

const docs = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => join("docs", name)),
];

function readRepoFile(path: string): string | undefined {
  const absolute = join(root, path);
  if (!existsSync(absolute)) return undefined;
  return path.endsWith(".md") ? readFileSync(absolute, "utf8") : "";
}

describe("documentation links", () => {
  it.each(docs)("%s links only to files and headings that exist", (file) => {
    expect(linkProblems(file, readRepoFile)).toEqual([]);
  });

  it("slugs headings as GitHub does", () => {
    expect(slug("Past one Redis: a Redis Cluster")).toBe("past-one-redis-a-redis-cluster");
    expect(slug("socket.io without sticky sessions")).toBe("socketio-without-sticky-sessions");
    expect(slug("What does an async order cost vs a sync one?")).toBe(
      "what-does-an-async-order-cost-vs-a-sync-one",
    );
    expect(slug("`npm run load` and _Rush hour_ — WORKER_COMMITS")).toBe(
      "npm-run-load-and-rush-hour--worker_commits",
    );
    expect([...anchors("# A\n\n## Results\n\n```\n# not a heading\n```\n\n## Results\n")]).toEqual([
      "a",
      "results",
      "results-1",
    ]);
  });

  it("catches a missing file, a missing heading and a link out of the repository", () => {
    const files: Record<string, string> = {
      "README.md": [
        "[fine](docs/a.md#results) [also fine](#top) `[in code](docs/gone.md)`",
        "[gone](docs/gone.md) [no such heading](docs/a.md#nothing) [outside](../shared/seed/x.txt)",
        "[a site](https://example.com/x.md#y) ![picture](docs/missing.png)",
        "# Top",
      ].join("\n"),
      "docs/a.md": "# A\n\n## Results\n",
    };
    expect(linkProblems("README.md", (path) => files[path])).toEqual([
      "README.md: docs/gone.md names no file",
      "README.md: docs/a.md#nothing names no heading of docs/a.md",
      "README.md: ../shared/seed/x.txt points outside the repository",
      "README.md: docs/missing.png names no file",
    ]);
  });
});
