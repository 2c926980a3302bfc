import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from './logger.js';

/**
 * Optional OpenTelemetry tracing for `understudy serve`, configured only by the standard OTEL_*
 * environment variables (docs/monitoring.md, "Tracing"): one server span per request, exported in
 * batches over OTLP/HTTP or written to standard output. The OpenTelemetry packages are imported
 * only when tracing is asked for, so a server without it neither loads nor runs any of it.
 */

/** What the HTTP server reports of each answered request (src/http/server.ts, `traceRequests`). */
export interface TracedRequest {
  /** The span's name: the request's operation (`operationOf`), never the URL. */
  readonly operation: string;
  readonly method: string;
  /** The matched route's URL pattern; undefined when no route matched. */
  readonly route: string | undefined;
  readonly status: number;
  readonly requestId: string;
  /** Read only for an incoming W3C `traceparent` (and `tracestate`); nothing from them is recorded. */
  readonly headers: IncomingHttpHeaders;
  /** How long the request took, from its arrival to the end of its answer. */
  readonly durationMs: number;
}

export interface Tracing {
  /** Records a finished request as a server span, child of the caller's span when it sent one. */
  recordRequest(request: TracedRequest): void;
  /**
   * Exports the spans still queued and stops; waits at most a few seconds for an unreachable
   * collector. Resolves `false` when it gave up: the exporter's request may then still be open, and
   * keep the process alive until its own timeout, so `serve` exits without waiting for it.
   */
  shutdown(): Promise<boolean>;
}

type Environment = Readonly<Record<string, string | undefined>>;

/** The exporters OTEL_TRACES_EXPORTER names that this server can use. */
type ExporterName = 'otlp' | 'console';

/**
 * Which exporters the environment asks for, none when tracing is off: OTEL_TRACES_EXPORTER naming
 * `otlp` and/or `console`, or an OTLP endpoint set (the exporter then defaults to `otlp`, as the
 * specification's default is). OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turns it off.
 */
export function requestedExporters(env: Environment): { exporters: ExporterName[]; ignored: string[] } {
  const none = { exporters: [], ignored: [] };
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return none;
  const listed = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (listed.includes('none')) return none;
  if (listed.length === 0) {
    const endpointSet = [env.OTEL_EXPORTER_OTLP_ENDPOINT, env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT].some((value) => value !== undefined && value.trim() !== '');
    return endpointSet ? { exporters: ['otlp'], ignored: [] } : none;
  }
  const exporters = [...new Set(listed.filter((name): name is ExporterName => name === 'otlp' || name === 'console'))];
  return { exporters, ignored: listed.filter((name) => name !== 'otlp' && name !== 'console') };
}

/** The service's name when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names it. */
export const DEFAULT_SERVICE_NAME = 'understudy';

/** How long `shutdown` waits for the last spans to be exported. */
const SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * Starts tracing when the environment asks for it (see `requestedExporters`); undefined otherwise.
 * Problems the SDK meets later (a collector that refuses spans, say) are logged as warnings.
 */
export async function startTracing(env: Environment, options: { readonly version: () => string; readonly logger: Logger }): Promise<Tracing | undefined> {
  const { exporters, ignored } = requestedExporters(env);
  const { logger } = options;
  if (ignored.length > 0) logger.warn({ exporters: ignored }, 'OTEL_TRACES_EXPORTER names exporters this server does not have; only otlp and console are used');
  if (exporters.length === 0) return undefined;
  const [api, sdk, resources] = await Promise.all([import('@opentelemetry/api'), import('@opentelemetry/sdk-trace-node'), import('@opentelemetry/resources')]);
  api.diag.setLogger(diagnosticsTo(logger), api.DiagLogLevel.WARN);

  const spanProcessors = [];
  if (exporters.includes('otlp')) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
    if (protocol !== undefined && protocol !== '' && protocol !== 'http/json') {
      logger.warn({ protocol }, 'traces are sent as OTLP/HTTP JSON (http/json), the one OTLP protocol this server speaks; the protocol asked for is not used');
    }
    // The exporter reads the endpoint, headers, timeout, compression and certificates from OTEL_EXPORTER_OTLP_*.
    spanProcessors.push(new sdk.BatchSpanProcessor(new OTLPTraceExporter()));
  }
  if (exporters.includes('console')) spanProcessors.push(new sdk.BatchSpanProcessor(new sdk.ConsoleSpanExporter()));

  // Read only now: a server without tracing does not look for its package manifest.
  const version = options.version();
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the environment detector) win over these defaults.
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME, 'service.version': version }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  // The sampler comes from OTEL_TRACES_SAMPLER (parent-based, always on, by default).
  const provider = new sdk.NodeTracerProvider({ resource, spanProcessors });
  // Installs the W3C trace-context propagator that reads `traceparent`. No context manager: each
  // span is made with its parent given explicitly, and nothing runs inside a span.
  provider.register({ contextManager: null });
  const tracer = provider.getTracer('understudy', version);
  logger.info(
    { exporters, service_name: resource.attributes['service.name'], ...(exporters.includes('otlp') && { endpoint: otlpEndpointForLog(env) }) },
    'tracing requests with OpenTelemetry',
  );

  return {
    recordRequest(request) {
      const end = performance.timeOrigin + performance.now();
      const parent = api.propagation.extract(api.ROOT_CONTEXT, request.headers);
      const span = tracer.startSpan(
        request.operation,
        {
          kind: api.SpanKind.SERVER,
          startTime: end - request.durationMs,
          attributes: {
            'http.request.method': request.method,
            ...(request.route !== undefined && { 'http.route': request.route }),
            'understudy.request_id': request.requestId,
          },
        },
        parent,
      );
      span.setAttribute('http.response.status_code', request.status);
      // Server spans are errors for 5xx answers only: a 4xx is the client's mistake, answered as designed.
      if (request.status >= 500) {
        span.setAttribute('error.type', String(request.status));
        span.setStatus({ code: api.SpanStatusCode.ERROR });
      }
      span.end(end);
    },
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timed out'>((resolve) => {
        timer = setTimeout(() => resolve('timed out'), SHUTDOWN_TIMEOUT_MS);
        timer.unref();
      });
      try {
        const outcome = await Promise.race([provider.shutdown().then(() => 'done' as const), timedOut]);
        if (outcome === 'done') return true;
        // Nothing the SDK says after this may follow the "stopped" line.
        api.diag.disable();
        logger.warn({ waited_ms: SHUTDOWN_TIMEOUT_MS }, 'stopped without exporting the last spans: the trace exporter did not finish in time');
        return false;
      } catch (error) {
        logger.warn({ err: error }, 'exporting the last spans failed');
        return true;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * The OpenTelemetry SDK's own warnings and errors (a collector that refuses spans or cannot be
 * reached, say) as warnings: requests are answered all the same, only their spans are lost.
 */
function diagnosticsTo(logger: Logger) {
  const write = (message: string, ...args: unknown[]) => {
    const detail = args.map((arg) => (arg instanceof Error ? arg.message : typeof arg === 'string' ? arg : undefined)).filter((text) => text !== undefined);
    // The SDK may quote an endpoint it could not parse, user:password@ included.
    const text = withoutUrlCredentials(detail.join('; '));
    logger.warn({ ...(text !== '' && { detail: text }) }, `OpenTelemetry: ${withoutUrlCredentials(readable(message))}`);
  };
  const ignore = () => undefined;
  return { error: write, warn: write, info: ignore, debug: ignore, verbose: ignore };
}

/** `scheme://user:password@host` → `scheme://[credentials]@host`, anywhere in a message. */
function withoutUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1[credentials]@');
}

/** The SDK reports a failed export as the JSON of the error; its message says it all. */
function readable(message: string): string {
  if (!message.startsWith('{')) return message;
  try {
    const parsed = JSON.parse(message) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : message;
  } catch {
    return message;
  }
}

/**
 * Where spans go, as the exporter works it out, for the start line: scheme, host, port and path
 * only. User information or a query string in the URL could carry credentials and is left out.
 */
function otlpEndpointForLog(env: Environment): string {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const endpoint = traces || (general ? `${general.replace(/\/+$/, '')}/v1/traces` : 'http://localhost:4318/v1/traces');
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return 'an unreadable URL';
  }
}
