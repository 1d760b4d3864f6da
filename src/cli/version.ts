// The version the build stamps into the bundle; 'dev' when run from source (tests of src/).
declare const __SUPERVISOR_VERSION__: string | undefined;

export const VERSION = typeof __SUPERVISOR_VERSION__ === 'string' ? __SUPERVISOR_VERSION__ : 'dev';
