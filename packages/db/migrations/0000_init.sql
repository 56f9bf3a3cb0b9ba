CREATE TABLE "device_credentials" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"device_id" uuid NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"hostname" text NOT NULL,
	"os_platform" text NOT NULL,
	"os_release" text DEFAULT '' NOT NULL,
	"os_arch" text,
	"agent_version" text NOT NULL,
	"enrolled_at" timestamp with time zone DEFAULT now() NOT NULL,
	"enrollment_token_id" uuid,
	"last_seen_at" timestamp with time zone,
	"health" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"outbox_depth" integer DEFAULT 0 NOT NULL,
	"dropped_events" integer DEFAULT 0 NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"device_id" uuid NOT NULL,
	"school_id" uuid NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source" text NOT NULL,
	"category" text NOT NULL,
	"severity" smallint NOT NULL,
	"rule_ids" text[] NOT NULL,
	"evidence" jsonb NOT NULL,
	"app" text,
	"window_title" text,
	"os_user" text NOT NULL,
	CONSTRAINT "events_severity_ck" CHECK ("events"."severity" between 0 and 5),
	CONSTRAINT "events_source_ck" CHECK ("events"."source" in ('title', 'keys', 'screen'))
);
--> statement-breakpoint
CREATE TABLE "enrollment_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"label" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"max_uses" integer,
	"use_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "enrollment_tokens_tokenHash_unique" UNIQUE("token_hash"),
	CONSTRAINT "enrollment_tokens_use_count_ck" CHECK ("enrollment_tokens"."use_count" >= 0 and ("enrollment_tokens"."max_uses" is null or "enrollment_tokens"."use_count" <= "enrollment_tokens"."max_uses"))
);
--> statement-breakpoint
CREATE TABLE "schools" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "device_credentials" ADD CONSTRAINT "device_credentials_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_enrollment_token_id_enrollment_tokens_id_fk" FOREIGN KEY ("enrollment_token_id") REFERENCES "public"."enrollment_tokens"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ADD CONSTRAINT "enrollment_tokens_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "device_credentials_device_id_index" ON "device_credentials" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "devices_school_id_index" ON "devices" USING btree ("school_id");--> statement-breakpoint
CREATE INDEX "events_school_id_occurred_at_index" ON "events" USING btree ("school_id","occurred_at");--> statement-breakpoint
CREATE INDEX "events_device_id_occurred_at_index" ON "events" USING btree ("device_id","occurred_at");--> statement-breakpoint
CREATE INDEX "enrollment_tokens_school_id_index" ON "enrollment_tokens" USING btree ("school_id");