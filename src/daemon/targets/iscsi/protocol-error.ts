/**
 * The initiator broke RFC 7143 in a way error recovery level 0 cannot repair (bad framing, digest, sequence number,
 * offset or field): the connection is dropped and the initiator reinstates the session.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}
