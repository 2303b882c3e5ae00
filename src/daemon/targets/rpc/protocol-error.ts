/**
 * The peer broke ONC RPC framing in a way no reply can address (a record over the cap, a REPLY sent to us, a header
 * too short to hold an xid): over TCP that connection is dropped, over UDP the datagram is.
 */
export class RpcProtocolError extends Error {
  override readonly name = 'RpcProtocolError';
}
