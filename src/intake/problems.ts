import { Problem, type FieldError, type ProblemBody } from '../http/problem.ts';

/**
 * A problem+json answer with extension members (RFC 9457 §3.2): the seed's outcome, the duplicate
 * candidates, attempts left… so a client acts on fields rather than parsing the detail text.
 */
export class ProblemWith extends Problem {
  constructor(
    status: number,
    detail: string,
    readonly extensions: Record<string, unknown>,
    errors?: FieldError[],
  ) {
    super(status, detail, errors);
  }

  override toBody(): ProblemBody & Record<string, unknown> {
    return { ...super.toBody(), ...this.extensions };
  }
}
