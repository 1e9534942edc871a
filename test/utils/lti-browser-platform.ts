/**
 * The browser-facing names of the one LMS platform simulator, ./lti-platform.ts (kept so that code
 * importing this path keeps working; new code imports ./lti-platform).
 */
export { escapeHtml, startLmsBrowserPlatform, STORAGE_FRAME, TOOL_FRAME } from './lti-platform';
export type { AuthRefusal, LmsBrowserPlatform, LmsBrowserPlatformOptions, LmsLaunch, ToolUrls } from './lti-platform';
