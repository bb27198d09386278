/**
 * The source's include/exclude globs on POSIX relative paths (dotfiles
 * included): which files are wanted, which directories need no walk, and
 * which patterns matched nothing (usually a typo, worth a warning).
 */
import picomatch from "picomatch";
import { ZillizValidationError } from "../errors";

/** Include/exclude, counting which pattern matched something. */
export class GlobFilter {
  private readonly include: picomatch.Matcher[];
  private readonly exclude: picomatch.Matcher[];
  /** For exclude patterns of the form "dir/**": matches the directory itself, so its walk is skipped. */
  private readonly excludeDirs: (picomatch.Matcher | undefined)[];
  private readonly hits: boolean[];

  constructor(
    private readonly includePatterns: string[],
    private readonly excludePatterns: string[],
  ) {
    const compile = (field: string) => (p: string) => {
      try {
        return picomatch(p, { dot: true });
      } catch (err) {
        throw new ZillizValidationError(field, `${JSON.stringify(p)} is not a valid glob (${(err as Error).message})`);
      }
    };
    this.include = includePatterns.map(compile("include"));
    this.exclude = excludePatterns.map(compile("exclude"));
    this.excludeDirs = excludePatterns.map((p) => (p.endsWith("/**") && p.length > 3 ? compile("exclude")(p.slice(0, -3)) : undefined));
    this.hits = new Array(includePatterns.length + excludePatterns.length).fill(false);
  }

  /** Is this file wanted? */
  file(rel: string): boolean {
    let included = this.include.length === 0;
    let excluded = false;
    for (let i = 0; i < this.include.length; i++) {
      if (this.include[i](rel)) this.hits[i] = included = true;
    }
    for (let i = 0; i < this.exclude.length; i++) {
      if (this.exclude[i](rel)) this.hits[this.include.length + i] = excluded = true;
    }
    return included && !excluded;
  }

  /** Is this whole directory excluded (so it need not be walked)? */
  skipsDirectory(rel: string): boolean {
    for (let i = 0; i < this.excludeDirs.length; i++) {
      if (this.excludeDirs[i]?.(rel)) {
        this.hits[this.include.length + i] = true;
        return true;
      }
    }
    return false;
  }

  unmatched(): string[] {
    return [...this.includePatterns, ...this.excludePatterns].filter((_, i) => !this.hits[i]);
  }
}
