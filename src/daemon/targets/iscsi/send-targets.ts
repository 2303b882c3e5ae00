/**
 * Answers a Text request (RFC 7143 §6.7 and Appendix C): SendTargets lists the targets this initiator may log in to,
 * each with the portal address it should dial. SendTargets=All names every target, =<iSCSI name> one, and an empty
 * value the target of the current normal session. Keys are case-sensitive; any other key is NotUnderstood.
 */
import { PORTAL_GROUP_TAG } from './login.js';
import type { IscsiTarget, TargetDirectory } from './target-directory.js';
import type { TextPair } from './text-params.js';

export interface SendTargetsScope {
  directory: TargetDirectory;
  initiatorName: string;
  /** The target of a normal session; undefined in a discovery session. */
  currentTarget?: IscsiTarget;
  /** The portal as initiators should dial it: `host:port`, IPv6 hosts in brackets. */
  portalAddress: string;
}

/** RFC 7143 §4.2.7: the three iSCSI name formats. */
const ISCSI_NAME = /^(iqn\.[0-9]{4}-[0-9]{2}\.[^\s,]+|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16}(?:[0-9A-Fa-f]{16})?)$/;

export function answerTextRequest(pairs: readonly TextPair[], scope: SendTargetsScope): TextPair[] {
  return pairs.flatMap(([key, value]): TextPair[] => {
    if (key !== 'SendTargets') return [[key, 'NotUnderstood']];
    const targets = selectTargets(value, scope);
    if (targets === null) return [[key, 'Reject']];
    return targets
      .filter((target) => target.chap(scope.initiatorName) !== 'refused')
      .flatMap((target): TextPair[] => [['TargetName', target.name], ['TargetAddress', `${scope.portalAddress},${PORTAL_GROUP_TAG}`]]);
  });
}

/** The targets a SendTargets value names, or null when the value is malformed. */
function selectTargets(value: string, scope: SendTargetsScope): IscsiTarget[] | null {
  if (value === 'All') return scope.directory.list();
  if (value === '') return scope.currentTarget ? [scope.currentTarget] : [];
  if (!ISCSI_NAME.test(value)) return null;
  const target = scope.directory.find(value);
  return target ? [target] : [];
}
