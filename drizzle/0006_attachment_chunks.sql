ALTER TABLE "knowledge_chunks" ALTER COLUMN "persona_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ALTER COLUMN "source_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ADD COLUMN "attachment_id" text;--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ADD COLUMN "chat_session_id" text;--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ADD CONSTRAINT "knowledge_chunks_attachment_id_attachments_id_fk" FOREIGN KEY ("attachment_id") REFERENCES "public"."attachments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ADD CONSTRAINT "knowledge_chunks_chat_session_id_chat_sessions_id_fk" FOREIGN KEY ("chat_session_id") REFERENCES "public"."chat_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_session_idx" ON "knowledge_chunks" USING btree ("organization_id","chat_session_id");--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ADD CONSTRAINT "knowledge_chunks_owner_check" CHECK (("knowledge_chunks"."source_id" is not null and "knowledge_chunks"."persona_id" is not null and "knowledge_chunks"."attachment_id" is null and "knowledge_chunks"."chat_session_id" is null)
        or ("knowledge_chunks"."source_id" is null and "knowledge_chunks"."persona_id" is null and "knowledge_chunks"."attachment_id" is not null and "knowledge_chunks"."chat_session_id" is not null));