/** An endpoint written without a scheme means HTTPS: plain HTTP is only ever what the user wrote out. */
export function withDefaultScheme(endpoint: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
}
