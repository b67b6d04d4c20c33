// The SIP trunk's state as the server tells it (welcome's `voice.phone`, `trunk_state`:
// docs/protocol.md), read the same way by the desk's warning and the wall's trunk line.

/** Whether the trunk is failing: `failed`, or `registering` again with the last failure still
 * in `error` (a failed registration is tried again); the first `registering` at a start is not. */
export function trunkFailing(phone) {
  return phone?.trunk === "failed" || (phone?.trunk === "registering" && !!phone.error);
}
