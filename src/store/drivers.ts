/**
 * What the server stores share and `openLeaseStore` needs too, kept apart so that neither imports
 * the other: loading an optional driver package, and redacting passwords from store URLs.
 */
import { ConfigError } from '../errors.js';

/**
 * Imports an optional driver package; when it is not installed, throws a `ConfigError` naming the
 * package to install. `load` is the literal `() => import('<pkg>')` so types flow through, or a
 * `require` of it typed `typeof import('<pkg>')` (a CommonJS driver without the ESM wrapper).
 */
export async function importDriver<T>(pkg: string, scheme: string, url: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(error).includes(`'${pkg}'`);
    if (!missing) throw error;
    throw new ConfigError('store', `a ${scheme} lease store needs the npm package "${pkg}" — run \`npm install ${pkg}\``, redactUrl(url));
  }
}

/** The URL with any password (in the userinfo or a `password=` query parameter) replaced by `***`. */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_all, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return `${scheme}${colon === -1 ? userinfo : `${userinfo.slice(0, colon)}:***`}@`;
    })
    .replace(/([?&](?:password|pass|pwd|sslpassword)=)[^&#]*/gi, '$1***');
}
