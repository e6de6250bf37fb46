// The one adapter between our LinearProgram data and glpk.js (GLPK 5.0 compiled to WebAssembly).
// Everything GLPK-specific (constants, bound types, status codes, options) stays in this file.
import GLPK from 'glpk.js/node';
import type { LinearProgram, LpBackend, LpSolution, LpStatus } from './lp-model';

type Glpk = Awaited<ReturnType<typeof GLPK>>;

export class GlpkBackend implements LpBackend {
  private constructor(private readonly glpk: Glpk) {}

  /** Loads the WebAssembly module (once per backend; solving is then synchronous). */
  static async create(): Promise<GlpkBackend> {
    return new GlpkBackend(await GLPK());
  }

  get version(): string {
    return this.glpk.version;
  }

  solve(lp: LinearProgram): LpSolution {
    const g = this.glpk;
    const bound = (lower: number | null, upper: number | null) => {
      if (lower === null && upper === null) return { type: g.GLP_FR, lb: 0, ub: 0 };
      if (upper === null) return { type: g.GLP_LO, lb: lower as number, ub: 0 };
      if (lower === null) return { type: g.GLP_UP, lb: 0, ub: upper };
      if (lower === upper) return { type: g.GLP_FX, lb: lower, ub: upper };
      return { type: g.GLP_DB, lb: lower, ub: upper };
    };
    const model = {
      name: lp.name,
      objective: { direction: g.GLP_MIN, name: 'obj', vars: lp.objective.map((t) => ({ name: t.variable, coef: t.coef })) },
      subjectTo: lp.rows.map((r) => ({ name: r.name, vars: r.terms.map((t) => ({ name: t.variable, coef: t.coef })), bnds: bound(r.lower, r.upper) })),
      bounds: lp.variables.map((v) => ({ name: v.name, ...bound(v.lower, v.upper) })),
    };
    // Without the presolver GLPK reports infeasibility as a status (with it: "undefined").
    const out = g.solve(model, { msglev: g.GLP_MSG_OFF, presol: false });
    const code = out.result.status;
    let status: LpStatus;
    if (code === g.GLP_OPT) status = 'optimal';
    // GLP_INFEAS means only that the last basis was infeasible (a stop), not that none exists.
    else if (code === g.GLP_NOFEAS) status = 'infeasible';
    else if (code === g.GLP_UNBND) status = 'unbounded';
    else status = 'failed';
    const values: Record<string, number> = {};
    for (const v of lp.variables) values[v.name] = out.result.vars[v.name] ?? 0;
    return { status, objective: out.result.z, values, ...(status === 'failed' ? { detail: `GLPK status ${code}` } : {}) };
  }
}
