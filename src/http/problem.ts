/** RFC 9457 problem details. Every error the API returns is one of these, never a stack trace. */
export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly type = 'about:blank',
  ) {
    super(detail);
  }

  toBody(): ProblemBody {
    return {
      type: this.type,
      title: titles[this.status] ?? 'Error',
      status: this.status,
      detail: this.detail,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const notFound = (what: string) => new Problem(404, `${what} was not found.`);
export const forbidden = (detail = 'Your role does not allow this action.') => new Problem(403, detail);
export const conflict = (detail: string, errors?: FieldError[]) => new Problem(409, detail, errors);
/** A request that is well-formed but breaks a rule about one or more of its fields. */
export const invalidFields = (errors: FieldError[], detail = 'Some fields are not valid; see errors.') => new Problem(422, detail, errors);
export const invalidField = (field: string, message: string) => invalidFields([{ field, message }], `${field}: ${message}`);

export const NO_SITE_ACCESS = 'You do not have access to this site.';
