CREATE TABLE "people" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"external_id" text,
	"os_username" text NOT NULL,
	"forename" text DEFAULT '' NOT NULL,
	"surname" text DEFAULT '' NOT NULL,
	"display_name" text NOT NULL,
	"kind" text NOT NULL,
	"year_group" text,
	"class_name" text,
	"send" boolean DEFAULT false NOT NULL,
	"looked_after" boolean DEFAULT false NOT NULL,
	"vulnerable_manual" boolean DEFAULT false NOT NULL,
	"left_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "people_schoolId_osUsername_unique" UNIQUE("school_id","os_username"),
	CONSTRAINT "people_school_external_id_unique" UNIQUE("school_id","external_id"),
	CONSTRAINT "people_kind_ck" CHECK ("people"."kind" in ('pupil', 'staff'))
);
--> statement-breakpoint
CREATE TABLE "school_settings" (
	"school_id" uuid PRIMARY KEY NOT NULL,
	"vulnerable_severity_step" smallint DEFAULT 1 NOT NULL,
	"retention" jsonb DEFAULT '{"false_positive":30,"no_further_action":365,"resolved":1095,"referred":null}'::jsonb NOT NULL,
	"agent_policy" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "shared_logons" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"os_username" text NOT NULL,
	"label" text DEFAULT '' NOT NULL,
	CONSTRAINT "shared_logons_schoolId_osUsername_unique" UNIQUE("school_id","os_username")
);
--> statement-breakpoint
CREATE TABLE "tombstones" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"incident_id" uuid NOT NULL,
	"category" text NOT NULL,
	"severity" smallint NOT NULL,
	"outcome" text,
	"event_count" smallint NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	"reason" text NOT NULL,
	"removed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trusts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "staff" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"display_name" text NOT NULL,
	"password_hash" text NOT NULL,
	"totp_secret" text,
	"totp_enabled" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone,
	CONSTRAINT "staff_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "staff_roles" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"staff_id" uuid NOT NULL,
	"school_id" uuid NOT NULL,
	"role" text NOT NULL,
	CONSTRAINT "staff_roles_staffId_schoolId_role_unique" UNIQUE("staff_id","school_id","role"),
	CONSTRAINT "staff_roles_role_ck" CHECK ("staff_roles"."role" in ('dsl', 'deputy_dsl', 'head', 'technician', 'trust_admin'))
);
--> statement-breakpoint
CREATE TABLE "staff_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"staff_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"incident_id" uuid,
	"kind" text NOT NULL,
	"channel" text NOT NULL,
	"recipient" text NOT NULL,
	"ok" integer NOT NULL,
	"error" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_id" uuid,
	"actor_name" text NOT NULL,
	"school_id" uuid,
	"action" text NOT NULL,
	"incident_id" uuid,
	"reason" text
);
--> statement-breakpoint
CREATE TABLE "digest_runs" (
	"school_id" uuid NOT NULL,
	"week_start" date NOT NULL,
	"sent_at" timestamp with time zone DEFAULT now() NOT NULL,
	"item_count" integer NOT NULL,
	CONSTRAINT "digest_runs_schoolId_weekStart_unique" UNIQUE("school_id","week_start")
);
--> statement-breakpoint
CREATE TABLE "incident_history" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "incident_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"incident_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_id" uuid,
	"field" text NOT NULL,
	"from_value" jsonb,
	"to_value" jsonb
);
--> statement-breakpoint
CREATE TABLE "incident_notes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"incident_id" uuid NOT NULL,
	"author_id" uuid,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"text" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"subject_key" text NOT NULL,
	"person_id" uuid,
	"subject_kind" text NOT NULL,
	"device_id" uuid,
	"vulnerability_step" smallint DEFAULT 0 NOT NULL,
	"trigger_key" text,
	"category" text NOT NULL,
	"severity" smallint NOT NULL,
	"status" text DEFAULT 'new' NOT NULL,
	"routed_to" text NOT NULL,
	"event_count" integer DEFAULT 0 NOT NULL,
	"device_count" integer DEFAULT 0 NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"involvement" text[] DEFAULT '{}'::text[] NOT NULL,
	"activity_type" text,
	"concern_level" text,
	"actions" text[] DEFAULT '{}'::text[] NOT NULL,
	"outcome" text,
	"assignee_id" uuid,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" uuid,
	"alerted_at" timestamp with time zone,
	"escalated_at" timestamp with time zone,
	"merged_into_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "incidents_severity_ck" CHECK ("incidents"."severity" between 0 and 5),
	CONSTRAINT "incidents_kind_ck" CHECK ("incidents"."kind" in ('person', 'cluster')),
	CONSTRAINT "incidents_status_ck" CHECK ("incidents"."status" in ('new', 'in_review', 'escalated', 'closed')),
	CONSTRAINT "incidents_routed_ck" CHECK ("incidents"."routed_to" in ('dsl', 'head'))
);
--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "room" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "trigger_key" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "incident_id" uuid;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "trust_id" uuid;--> statement-breakpoint
ALTER TABLE "people" ADD CONSTRAINT "people_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "school_settings" ADD CONSTRAINT "school_settings_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shared_logons" ADD CONSTRAINT "shared_logons_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tombstones" ADD CONSTRAINT "tombstones_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff_roles" ADD CONSTRAINT "staff_roles_staff_id_staff_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff_roles" ADD CONSTRAINT "staff_roles_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff_sessions" ADD CONSTRAINT "staff_sessions_staff_id_staff_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "digest_runs" ADD CONSTRAINT "digest_runs_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_history" ADD CONSTRAINT "incident_history_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_history" ADD CONSTRAINT "incident_history_actor_id_staff_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."staff"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_notes" ADD CONSTRAINT "incident_notes_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_notes" ADD CONSTRAINT "incident_notes_author_id_staff_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."staff"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_assignee_id_staff_id_fk" FOREIGN KEY ("assignee_id") REFERENCES "public"."staff"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_acknowledged_by_staff_id_fk" FOREIGN KEY ("acknowledged_by") REFERENCES "public"."staff"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tombstones_school_id_removed_at_index" ON "tombstones" USING btree ("school_id","removed_at");--> statement-breakpoint
CREATE INDEX "staff_roles_school_id_role_index" ON "staff_roles" USING btree ("school_id","role");--> statement-breakpoint
CREATE INDEX "staff_sessions_staff_id_index" ON "staff_sessions" USING btree ("staff_id");--> statement-breakpoint
CREATE INDEX "alert_deliveries_incident_id_index" ON "alert_deliveries" USING btree ("incident_id");--> statement-breakpoint
CREATE INDEX "alert_deliveries_school_id_at_index" ON "alert_deliveries" USING btree ("school_id","at");--> statement-breakpoint
CREATE INDEX "audit_log_school_id_at_index" ON "audit_log" USING btree ("school_id","at");--> statement-breakpoint
CREATE INDEX "audit_log_incident_id_index" ON "audit_log" USING btree ("incident_id");--> statement-breakpoint
CREATE INDEX "incident_history_incident_id_id_index" ON "incident_history" USING btree ("incident_id","id");--> statement-breakpoint
CREATE INDEX "incident_notes_incident_id_at_index" ON "incident_notes" USING btree ("incident_id","at");--> statement-breakpoint
CREATE INDEX "incidents_school_id_status_index" ON "incidents" USING btree ("school_id","status");--> statement-breakpoint
CREATE INDEX "incidents_school_id_subject_key_category_last_seen_at_index" ON "incidents" USING btree ("school_id","subject_key","category","last_seen_at");--> statement-breakpoint
CREATE INDEX "incidents_school_id_trigger_key_last_seen_at_index" ON "incidents" USING btree ("school_id","trigger_key","last_seen_at");--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schools" ADD CONSTRAINT "schools_trust_id_trusts_id_fk" FOREIGN KEY ("trust_id") REFERENCES "public"."trusts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_school_id_trigger_key_occurred_at_index" ON "events" USING btree ("school_id","trigger_key","occurred_at");--> statement-breakpoint
CREATE INDEX "events_incident_id_device_id_index" ON "events" USING btree ("incident_id","device_id");--> statement-breakpoint
CREATE INDEX "events_ungrouped_index" ON "events" USING btree ("school_id","occurred_at") WHERE "events"."incident_id" is null;