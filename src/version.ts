/** churnwatch's version, as package.json gives it: the OpenAPI document and `GET /` show it. */
export const CHURNWATCH_VERSION = '0.1.0';
