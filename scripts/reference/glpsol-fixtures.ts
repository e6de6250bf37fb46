// Generates tests/fixtures/mixture/glpsol-lp.json: random mixture problems (feasible, infeasible,
// with margins, trust regions and noise-aware tightening) solved by GLPK's own command-line solver,
// `glpsol` (Debian package glpk-utils), from CPLEX-LP text written here by hand: nothing in this
// script uses our LP builder or glpk.js, so the test compares two independent paths.
//
//   apt-get install -y glpk-utils
//   npx tsx scripts/reference/glpsol-fixtures.ts [--out FILE]
//
// Run once and commit the JSON; the test needs no glpsol. Seeded, so a rerun gives the same file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Role = 'target' | 'constraint' | 'monitor';

interface Problem {
  slopes: number[][];
  losses: number[];
  references: (number | null)[];
  roles: Role[];
  horizon: number;
  margin: number;
  trustRegion?: { center: number[]; radius: number };
  uncertainty?: { k: number; changeStdErrors: number[]; slopeStdErrors: number[][] };
}

interface Fixture {
  id: string;
  kind: string;
  problem: Problem;
  glpsol: {
    status: 'feasible' | 'infeasible';
    /** The primary LP's optimum Σ_{i∈objective rows} S_i·w (feasible problems). */
    objective: number | null;
    /** The min-max-violation LP's optimum v* (every problem; > 0 exactly when infeasible). */
    minMaxViolation: number | null;
    /** Infeasible problems: the objective with v held at v* + 1e-7 + 1e-6·|v*|. */
    leastViolatingObjective: number | null;
  };
}

// ---------------------------------------------------------------- seeded randomness (mulberry32)

function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    u: next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T,
  };
}

/** Six significant digits: the JSON and the LP text then hold exactly the same decimal numbers. */
const round = (x: number) => Number(x.toPrecision(6));

// ---------------------------------------------------------------- random problems

interface Shape {
  kind: string;
  sources?: number;
  withMargin?: boolean;
  noTargets?: boolean;
  noConstraints?: boolean;
  trustRegion?: boolean;
  uncertainty?: boolean;
  /** Where references sit between the best and worst single source: < 0 tends to infeasible. */
  slack: [number, number];
}

function randomProblem(seed: number, shape: Shape): Problem {
  const r = rng(seed);
  const n = shape.sources ?? r.int(2, 6);
  const m = r.int(shape.noConstraints || shape.noTargets ? 1 : 2, 8);
  const scale = 10 ** (-5 + 4 * r.u());
  const horizon = r.pick([2, 8, 64, 512]);
  const roles: Role[] = [];
  for (let i = 0; i < m; i++) {
    if (shape.noConstraints) roles.push(i === 0 || r.u() < 0.7 ? 'target' : 'monitor');
    else if (shape.noTargets) roles.push(i === 0 || r.u() < 0.8 ? 'constraint' : 'monitor');
    else if (i === 0) roles.push('target');
    else if (i === 1) roles.push('constraint');
    else roles.push(r.pick(['target', 'constraint', 'constraint', 'monitor'] as const));
  }
  const slopes = roles.map(() => Array.from({ length: n }, () => round((r.u() * 2 - 1) * scale)));
  const losses = roles.map(() => round(1 + 3 * r.u()));
  const references = roles.map((role, i) => {
    if (role !== 'constraint') return null;
    const row = slopes[i] as number[];
    const lo = Math.min(...row);
    const hi = Math.max(...row);
    const f = shape.slack[0] + (shape.slack[1] - shape.slack[0]) * r.u();
    return round((losses[i] as number) + horizon * (lo + f * (hi - lo)));
  });
  const spread = horizon * scale;
  const p: Problem = { slopes, losses, references, roles, horizon, margin: shape.withMargin ? round(0.2 * spread * r.u()) : 0 };
  if (shape.trustRegion) {
    const raw = Array.from({ length: n }, () => r.u());
    const sum = raw.reduce((a, b) => a + b, 0);
    const center = raw.map((x) => round(x / sum));
    center[n - 1] = round(1 - center.slice(0, -1).reduce((a, b) => a + b, 0));
    p.trustRegion = { center, radius: round(0.1 + 0.9 * r.u()) };
  }
  if (shape.uncertainty) {
    p.uncertainty = {
      k: r.pick([1, 2, 3]),
      changeStdErrors: roles.map(() => round(0.02 * spread * r.u())),
      slopeStdErrors: roles.map(() => Array.from({ length: n }, () => round(0.1 * scale * r.u()))),
    };
  }
  return p;
}

// ---------------------------------------------------------------- CPLEX-LP text, written by hand

function num(x: number): string {
  return String(x);
}

function linear(terms: [number, string][]): string {
  const parts = terms.filter(([c]) => c !== 0).map(([c, v]) => `${c < 0 ? '-' : '+'} ${num(Math.abs(c))} ${v}`);
  return parts.length > 0 ? parts.join(' ') : '0 w1';
}

const w = (j: number) => `w${j + 1}`;

/** The rows to minimize: targets, or the constraints when there is none (the product's rule). */
function objectiveRows(p: Problem): number[] {
  const t = p.roles.flatMap((role, i) => (role === 'target' ? [i] : []));
  return t.length > 0 ? t : p.roles.flatMap((role, i) => (role === 'constraint' ? [i] : []));
}

/** Constraint i as coefficients of w and a right-hand side: Σ a_j w_j ≤ rhs. */
function constraintOf(p: Problem, i: number): { coefs: number[]; rhs: number } {
  const u = p.uncertainty;
  const coefs = (p.slopes[i] as number[]).map((s, j) => p.horizon * (s + (u ? u.k * ((u.slopeStdErrors[i] as number[])[j] as number) : 0)));
  const rhs = (p.references[i] as number) - p.margin - (p.losses[i] as number) - (u ? u.k * (u.changeStdErrors[i] as number) : 0);
  return { coefs, rhs };
}

type Stage = 'primary' | 'min-violation' | { leastViolating: number };

function cplex(p: Problem, stage: Stage): string {
  const n = (p.slopes[0] as number[]).length;
  const lines: string[] = [`\\* mixture problem, stage ${typeof stage === 'string' ? stage : 'least-violating'} *\\`, 'Minimize'];
  const withV = stage !== 'primary';
  if (stage === 'min-violation') {
    lines.push(' obj: + 1 v');
  } else {
    const coefs = new Array<number>(n).fill(0);
    for (const i of objectiveRows(p)) (p.slopes[i] as number[]).forEach((s, j) => (coefs[j] = (coefs[j] as number) + s));
    lines.push(` obj: ${linear(coefs.map((c, j) => [c, w(j)]))}`);
  }
  lines.push('Subject To');
  p.roles.forEach((role, i) => {
    if (role !== 'constraint') return;
    const { coefs, rhs } = constraintOf(p, i);
    const terms: [number, string][] = coefs.map((c, j) => [c, w(j)]);
    if (withV) terms.push([-1, 'v']);
    lines.push(` c${i + 1}: ${linear(terms)} <= ${num(rhs)}`);
  });
  lines.push(` simplex: ${Array.from({ length: n }, (_, j) => `+ 1 ${w(j)}`).join(' ')} = 1`);
  if (p.trustRegion) {
    const { center, radius } = p.trustRegion;
    for (let j = 0; j < n; j++) {
      lines.push(` up${j + 1}: + 1 u${j + 1} - 1 ${w(j)} >= ${num(-(center[j] as number))}`);
      lines.push(` down${j + 1}: + 1 u${j + 1} + 1 ${w(j)} >= ${num(center[j] as number)}`);
    }
    lines.push(` trust: ${Array.from({ length: n }, (_, j) => `+ 1 u${j + 1}`).join(' ')} <= ${num(radius)}`);
  }
  lines.push('Bounds');
  for (let j = 0; j < n; j++) lines.push(` ${w(j)} >= 0`);
  if (stage === 'min-violation') lines.push(' v free');
  else if (typeof stage === 'object') lines.push(` -infinity <= v <= ${num(stage.leastViolating)}`);
  lines.push('End', '');
  return lines.join('\n');
}

// ---------------------------------------------------------------- running glpsol

interface GlpsolResult {
  status: 'optimal' | 'infeasible';
  objective: number;
  /** Column values in GLPK's column order (the order of first appearance in the LP text). */
  columns: number[];
}

function glpsol(dir: string, name: string, text: string): GlpsolResult {
  const lp = path.join(dir, `${name}.lp`);
  const sol = path.join(dir, `${name}.sol`);
  writeFileSync(lp, text);
  // --nopresol: with the presolver glpsol reports an infeasible LP as "undefined".
  const log = execFileSync('glpsol', ['--lp', lp, '--nopresol', '-w', sol], { encoding: 'utf8' });
  const raw = readFileSync(sol, 'utf8');
  const header = /^s bas \d+ \d+ (\w) (\w) (\S+)$/m.exec(raw);
  if (!header) throw new Error(`unreadable glpsol solution for ${name}:\n${raw}`);
  const columns = [...raw.matchAll(/^j \d+ \w+ (\S+) \S+$/gm)].map((x) => Number(x[1]));
  if (header[1] === 'f' && /OPTIMAL LP SOLUTION FOUND/.test(log)) return { status: 'optimal', objective: Number(header[3]), columns };
  if (header[1] === 'n' && /HAS NO PRIMAL FEASIBLE SOLUTION/.test(log)) return { status: 'infeasible', objective: NaN, columns };
  throw new Error(`glpsol ended ${header[1]}/${header[2]} on ${name}:\n${log}`);
}

// ---------------------------------------------------------------- main

const SHAPES: { shape: Shape; count: number }[] = [
  { shape: { kind: 'feasible', slack: [0.3, 0.9] }, count: 14 },
  { shape: { kind: 'tight', slack: [-0.05, 0.4] }, count: 14 },
  { shape: { kind: 'infeasible', slack: [-0.8, -0.1] }, count: 12 },
  { shape: { kind: 'margin', withMargin: true, slack: [0, 0.6] }, count: 12 },
  { shape: { kind: 'single-source', sources: 1, slack: [-0.5, 0.5] }, count: 4 },
  { shape: { kind: 'no-constraints', noConstraints: true, slack: [0, 1] }, count: 3 },
  { shape: { kind: 'no-targets', noTargets: true, slack: [-0.3, 0.6] }, count: 4 },
  { shape: { kind: 'trust-region', trustRegion: true, slack: [-0.2, 0.7] }, count: 8 },
  { shape: { kind: 'noise-aware', uncertainty: true, withMargin: true, slack: [0, 0.8] }, count: 6 },
];

/** Problems whose least violation is this close to 0 are skipped: their verdict is a coin toss. */
const BORDERLINE = 1e-6;

function main() {
  const outArg = process.argv.indexOf('--out');
  const out = outArg > 0 ? (process.argv[outArg + 1] as string) : path.join('tests', 'fixtures', 'mixture', 'glpsol-lp.json');
  const version = execFileSync('glpsol', ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'glpsol-fixtures-'));
  const fixtures: Fixture[] = [];
  let seed = 1;
  try {
    for (const { shape, count } of SHAPES) {
      let made = 0;
      while (made < count) {
        const id = `${shape.kind}-${seed}`;
        const problem = randomProblem(seed++, shape);
        const hasConstraints = problem.roles.includes('constraint');
        const primary = glpsol(dir, `${id}-primary`, cplex(problem, 'primary'));
        let vStar: number | null = null;
        let least: number | null = null;
        if (hasConstraints) {
          const mv = glpsol(dir, `${id}-minviol`, cplex(problem, 'min-violation'));
          if (mv.status !== 'optimal') throw new Error(`min-violation LP of ${id} is ${mv.status}`);
          vStar = mv.objective;
          if (Math.abs(vStar) < BORDERLINE) continue;
          if ((vStar > 0) !== (primary.status === 'infeasible')) throw new Error(`${id}: v* = ${vStar} disagrees with the primary's ${primary.status}`);
          if (primary.status === 'infeasible') {
            const bound = vStar + 1e-7 + 1e-6 * Math.abs(vStar);
            const lv = glpsol(dir, `${id}-least`, cplex(problem, { leastViolating: bound }));
            if (lv.status !== 'optimal') throw new Error(`least-violating LP of ${id} is ${lv.status}`);
            least = lv.objective;
          }
        }
        fixtures.push({
          id,
          kind: shape.kind,
          problem,
          glpsol: {
            status: primary.status === 'optimal' ? 'feasible' : 'infeasible',
            objective: primary.status === 'optimal' ? primary.objective : null,
            minMaxViolation: vStar,
            leastViolatingObjective: least,
          },
        });
        made++;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const doc = {
    about: 'Mixture LPs solved by glpsol from hand-written CPLEX-LP text; generated by scripts/reference/glpsol-fixtures.ts.',
    glpsol: version,
    count: fixtures.length,
    feasible: fixtures.filter((f) => f.glpsol.status === 'feasible').length,
    infeasible: fixtures.filter((f) => f.glpsol.status === 'infeasible').length,
    fixtures,
  };
  writeFileSync(out, `${JSON.stringify(doc, null, 1)}\n`);
  console.log(JSON.stringify({ out, count: doc.count, feasible: doc.feasible, infeasible: doc.infeasible, glpsol: version }));
}

main();
