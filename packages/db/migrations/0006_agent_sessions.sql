ALTER TABLE "devices" ADD COLUMN "sessions" jsonb;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "last_tamper_at" timestamp with time zone;