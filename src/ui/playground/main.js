// @ts-check
/**
 * The playground page (GET /, src/ui/playground/index.html): drives the public API as any client does.
 * Plain ES modules served as they are (no build step), type-checked by src/ui/tsconfig.json.
 */
import { initComposer } from './composer.js';
import { initCredentials, startCredentials } from './credentials.js';
import { initPersonas } from './personas.js';
import { initPicked } from './picked.js';
import { initSessionActions } from './session-actions.js';
import { initSessions } from './sessions.js';
import { initVersions } from './versions.js';

initCredentials();
initPersonas();
initSessions();
initSessionActions();
initPicked();
initComposer();
initVersions();
startCredentials();
