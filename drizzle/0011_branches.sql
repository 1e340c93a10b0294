ALTER TABLE "messages" ADD COLUMN "edit_of_id" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "hidden_by" text;