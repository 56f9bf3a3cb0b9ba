DROP INDEX "events_ungrouped_index";--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "reported_occurred_at" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "grouping_failed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "grouping_error" text;--> statement-breakpoint
CREATE INDEX "events_grouping_failed_index" ON "events" USING btree ("school_id") WHERE "events"."grouping_failed_at" is not null;--> statement-breakpoint
CREATE INDEX "events_ungrouped_index" ON "events" USING btree ("school_id","occurred_at") WHERE "events"."incident_id" is null and "events"."grouping_failed_at" is null;