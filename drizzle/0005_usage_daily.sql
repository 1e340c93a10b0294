CREATE TABLE "usage_daily" (
	"organization_id" text NOT NULL,
	"day" date NOT NULL,
	"persona_id" text NOT NULL,
	"sessions_started" integer DEFAULT 0 NOT NULL,
	"messages" integer DEFAULT 0 NOT NULL,
	"replies" integer DEFAULT 0 NOT NULL,
	"model_calls" integer DEFAULT 0 NOT NULL,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"attachment_bytes" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_daily_organization_id_day_persona_id_pk" PRIMARY KEY("organization_id","day","persona_id")
);
--> statement-breakpoint
ALTER TABLE "usage_daily" ADD CONSTRAINT "usage_daily_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;