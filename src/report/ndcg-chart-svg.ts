/**
 * The hand-written SVG line chart of the training report (NDCG@10 per epoch). No dependencies. Text has
 * no layout engine here, so widths are estimated from character counts and the canvas is sized to fit them.
 */

/** One series of the chart. `points` are [x, y]. */
export interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
  dashed?: boolean;
}

/** Average glyph advance of a sans-serif font, in em: generous, so estimates err on the wide side. */
const EM_PER_CHAR = 0.62;

/** Estimated rendered width (px) of `text` at `fontSize` px. */
export function textWidth(text: string, fontSize: number): number {
  return Math.ceil(text.length * fontSize * EM_PER_CHAR);
}

const FONT = 12;
const TITLE_FONT = 14;
/** Legend sample line: 12 px gap, 24 px line, 6 px gap, then the name. */
const LEGEND_TEXT_DX = 42;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (n: number) => (Math.round(n * 1000) / 1000).toString();

/** "Nice" tick step for a range (1, 2 or 5 × 10^k). */
function tickStep(range: number, target = 5): number {
  const raw = range / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
}

/**
 * A line chart of NDCG@10 per epoch. The y range hugs the data (with padding) so small gains show.
 */
export function lineChartSvg(series: Series[], opts: { title: string; xLabel: string; yLabel: string; plotWidth?: number; height?: number }): string {
  const H = opts.height ?? 320;
  // The right margin holds the legend: as wide as its longest name, plus the sample line and a little air.
  const legend = Math.max(0, ...series.map((s) => textWidth(s.name, FONT)));
  const m = { l: 56, r: LEGEND_TEXT_DX + legend + 12, t: 32, b: 44 };
  const W = m.l + Math.max(opts.plotWidth ?? 434, textWidth(opts.title, TITLE_FONT) - m.r + 16) + m.r;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="40" viewBox="0 0 ${W} 40"><text x="8" y="24">no data</text></svg>`;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1);
  let yMin = Math.min(...ys);
  let yMax = Math.max(...ys);
  const pad = Math.max((yMax - yMin) * 0.1, 0.01);
  yMin = Math.max(0, yMin - pad);
  yMax = Math.min(1, yMax + pad);
  if (yMax <= yMin) yMax = yMin + 0.02;
  const step = tickStep(yMax - yMin);
  const px = (x: number) => m.l + ((x - xMin) / (xMax - xMin)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - yMin) / (yMax - yMin)) * (H - m.t - m.b);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="${FONT}">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${fmt(Math.max((m.l + W - m.r) / 2, 8 + textWidth(opts.title, TITLE_FONT) / 2))}" y="18" text-anchor="middle" font-size="${TITLE_FONT}">${esc(opts.title)}</text>`,
  ];
  for (let y = Math.ceil(yMin / step) * step; y <= yMax + 1e-9; y += step) {
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${fmt(py(y))}" y2="${fmt(py(y))}" stroke="#e5e5e5"/>`,
      `<text x="${m.l - 6}" y="${fmt(py(y) + 4)}" text-anchor="end">${fmt(y)}</text>`,
    );
  }
  for (let x = Math.ceil(xMin); x <= xMax; x += Math.max(1, Math.ceil((xMax - xMin) / 10))) {
    parts.push(`<text x="${fmt(px(x))}" y="${H - m.b + 16}" text-anchor="middle">${x}</text>`);
  }
  parts.push(
    `<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">${esc(opts.xLabel)}</text>`,
    `<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const d = s.points.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${fmt(px(x))},${fmt(py(y))}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    if (!s.dashed) for (const [x, y] of s.points) parts.push(`<circle cx="${fmt(px(x))}" cy="${fmt(py(y))}" r="3" fill="${s.color}"/>`);
    const ly = m.t + 10 + i * 18;
    parts.push(
      `<line x1="${W - m.r + 12}" x2="${W - m.r + 36}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${W - m.r + LEGEND_TEXT_DX}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
