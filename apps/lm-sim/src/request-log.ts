// The last chat completion requests the simulator answered, in fixed memory, so a test can see
// exactly what an LM was sent (GET /sim/requests).
import type { ChatCompletionRequest } from './request-schema.js';

export const REQUEST_LOG_SIZE = 200;

export interface LoggedRequest {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  /** Everything else the request carried (sampling parameters, response_format, ...). */
  params: Record<string, unknown>;
}

export class RequestLog {
  private entries: LoggedRequest[] = [];

  record(request: ChatCompletionRequest): void {
    const { model, messages, ...params } = request;
    this.entries.push({ model, messages: messages.map((m) => ({ role: m.role, content: m.content })), params });
    if (this.entries.length > REQUEST_LOG_SIZE) this.entries.splice(0, this.entries.length - REQUEST_LOG_SIZE);
  }

  /** Oldest first. */
  recent(): LoggedRequest[] {
    return [...this.entries];
  }

  reset(): void {
    this.entries = [];
  }
}
