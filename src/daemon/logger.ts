import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout (journald keeps them). Anything that could hold a secret is redacted at the source. */
export function createLogger(level = process.env.SGW_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: 'sgwd',
    level,
    redact: {
      paths: ['*.secret', '*.secretAccessKey', '*.sessionToken', '*.credentials', '*.targetSecret', 'secret', 'credentials'],
      censor: '[redacted]',
    },
  });
}
