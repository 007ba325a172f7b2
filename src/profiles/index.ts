/**
 * Profiles: the declaration of a request path (which events are its points, how they join into
 * requests). The public API of src/profiles; everything outside this folder imports from here.
 *  - schema.ts: the format and its types; validate.ts: the one validation walk;
 *  - load.ts: built-in names or JSON files; builtin/: the built-in profiles;
 *  - fields.ts: the built-in event fields ($pid ...); markers.ts: the run markers.
 */
export { joinPairs, type Profile, type ProfileInput, type ProfilePoint } from './schema.js';
export { parseProfile, unprovidedJoinFields } from './validate.js';
export { builtinProfileDocument, builtinProfileNames, loadProfile } from './load.js';
export { BUILTIN_FIELDS, builtinFieldIndex, builtinFieldValues, isBuiltinField, namedGroups, requestAttrNames, type BuiltinField, type BuiltinFieldName, type BuiltinFieldValues } from './fields.js';
export { DEFAULT_MARKER_MATCH, runMarkerText, type RunEdge } from './markers.js';
