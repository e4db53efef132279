// Rendering results: a plain table for the terminal and a Markdown one for the README.
import { formatFigure } from './stats.js';

export interface FigureSpec {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  /** The ratio ours/raw to reach: at least this if higher is better, at most if lower is. */
  readonly target?: number;
  /** Leave the ratio out: the raw figure is about zero, so ours/raw says nothing. */
  readonly noRatio?: boolean;
}

export interface FigureResult extends FigureSpec {
  readonly raw: { readonly runs: readonly number[]; readonly median: number };
  readonly ours: { readonly runs: readonly number[]; readonly median: number };
  readonly ratio: number;
  readonly met?: boolean;
}

export interface WorkloadResult {
  readonly id: string;
  readonly title: string;
  readonly figures: readonly FigureResult[];
  readonly errors: readonly string[];
}

function rows(results: readonly WorkloadResult[]): string[][] {
  const table = [['workload', 'figure', 'raw', 'ours', 'ours/raw', 'target']];
  for (const result of results) {
    for (const figure of result.figures) {
      const target =
        figure.target === undefined ? '' : `${figure.better === 'higher' ? '≥' : '≤'} ${figure.target}${figure.met === undefined ? '' : figure.met ? ' met' : ' missed'}`;
      table.push([
        result.id,
        `${figure.label} (${figure.unit})`,
        formatFigure(figure.raw.median),
        formatFigure(figure.ours.median),
        Number.isFinite(figure.ratio) && !figure.noRatio ? figure.ratio.toFixed(2) : '—',
        target,
      ]);
    }
  }
  return table;
}

export function textTable(results: readonly WorkloadResult[]): string {
  const table = rows(results);
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const numeric = (column: number): boolean => column >= 2 && column <= 4;
  return table.map((row) => row.map((cell, column) => (numeric(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd()).join('\n');
}

export function markdownTable(results: readonly WorkloadResult[]): string {
  const [header, ...body] = rows(results);
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header!), '|---|---|---:|---:|---:|---|', ...body.map(line)].join('\n');
}
