// `dynamics solve --in PROBLEM.json [--out RESULT.json]`: one mixture decision (DESIGN.md's CLI
// contract). Reads the problem, solves it with the chosen solver, writes RESULT as JSON.
import { writeFileSync } from 'node:fs';
import { UserError } from '../../../shared/errors';
import { readCappedText } from '../../capped-file';
import { parseProblemDocument, resultDocument } from '../../mixture/problem-schema';
import { createMixtureSolver } from '../../mixture/solver';
import { parseCommandArgs, type Command } from '../command';

/** A problem with 1024 × 1024 slopes is about 20 MB of JSON; nothing legitimate is larger. */
const MAX_PROBLEM_BYTES = 32 * 1024 * 1024;

function readJson(file: string): unknown {
  const text = readCappedText(file, MAX_PROBLEM_BYTES, 'a problem file');
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      const col = before.length - before.lastIndexOf('\n');
      throw new UserError(`${file}:${line}:${col} is not valid JSON (${msg.replace(/ in JSON at position \d+.*$/, '')})`);
    }
    throw new UserError(`${file} is not valid JSON (${msg})`);
  }
}

export const solveCommand: Command = {
  name: 'solve',
  summary: 'decide one mixture from a slope matrix (PROBLEM.json → RESULT.json)',
  usage: `dynamics solve --in PROBLEM.json [--out RESULT.json]

PROBLEM: {"slopes": M×N, "losses": M, "references": M (null where not a constraint),
          "roles": M of "target"|"constraint"|"monitor", "horizon": H,
          "margin"?: ε (default 0), "solver"?: "lp" (default) | "penalty-grid"}
RESULT:  {"weights", "status": "feasible"|"infeasible", "predicted", "maxViolation",
          "objective", "binding"}

Minimizes the targets' predicted loss subject to every constraint's predicted loss staying at or
below its reference minus the margin; when that is impossible, returns the mixture with the least
largest violation. With no target, the constraints' own loss is minimized. The result goes to
--out, or to standard output.`,
  async run(argv, io) {
    const { values } = parseCommandArgs('solve', argv, { in: { type: 'string' }, out: { type: 'string' } }, false);
    if (values.in === undefined) throw new UserError('`dynamics solve` needs --in PROBLEM.json');
    const { problem, solver } = parseProblemDocument(readJson(values.in), values.in);
    const decision = (await createMixtureSolver()).solve(problem, solver);
    const text = JSON.stringify(resultDocument(decision), null, 2);
    if (values.out === undefined) {
      io.out(text);
    } else {
      try {
        writeFileSync(values.out, `${text}\n`);
      } catch (err) {
        throw new UserError(`cannot write ${values.out} (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
      }
      io.out(`${decision.status}: weights ${JSON.stringify(decision.weights.map((w) => Number(w.toPrecision(6))))} written to ${values.out}`);
    }
    return 0;
  },
};
