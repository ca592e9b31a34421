/**
 * Zod builds fast object parsers with `new Function`, and probes for that when a schema is created. Offhook's
 * content security policy allows no eval, so the probe alone would log a violation on every start; the
 * interpreted parser is fast enough for the few replies the renderer validates.
 *
 * Imported first by main.ts, because the setting is read when the schemas in shared/ are built.
 */
import { z } from 'zod';

z.config({ jitless: true });
