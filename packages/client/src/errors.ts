// What the predictq API answered when it did not succeed: its status, stable code and message
// (predictq's `{error: {code, message}}` and OpenAI's `{error: {message, type, code}}` alike).
export class PredictqClientError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'PredictqClientError';
    this.status = status;
    this.code = code;
  }
}

export async function errorFrom(response: Response): Promise<PredictqClientError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return new PredictqClientError(response.status, body.error?.code ?? `http_${response.status}`, body.error?.message ?? text);
  } catch {
    return new PredictqClientError(response.status, `http_${response.status}`, text || response.statusText);
  }
}
