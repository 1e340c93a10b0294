export * from './schema/api-keys';
export * from './schema/attachments';
export * from './schema/idempotency';
export * from './schema/messages';
export * from './schema/organizations';
export * from './schema/personas';
export * from './schema/sessions';
export * from './schema/usage';
