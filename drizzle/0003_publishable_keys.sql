CREATE TABLE "publishable_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"allowed_origins" text[] NOT NULL,
	"allowed_persona_ids" text[] NOT NULL,
	"visitor_limits" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "publishable_keys" ADD CONSTRAINT "publishable_keys_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "publishable_keys_hash_key" ON "publishable_keys" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "publishable_keys_organization_idx" ON "publishable_keys" USING btree ("organization_id","created_at");