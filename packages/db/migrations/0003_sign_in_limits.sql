CREATE TABLE "auth_attempts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "auth_attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"purpose" text NOT NULL,
	"succeeded" boolean NOT NULL,
	"account" text,
	"address" text NOT NULL,
	CONSTRAINT "auth_attempts_purpose_ck" CHECK ("auth_attempts"."purpose" in ('sign_in', 'enrolment'))
);
--> statement-breakpoint
ALTER TABLE "staff" ADD COLUMN "totp_last_step" integer;--> statement-breakpoint
CREATE INDEX "auth_attempts_purpose_address_at_index" ON "auth_attempts" USING btree ("purpose","address","at");--> statement-breakpoint
CREATE INDEX "auth_attempts_purpose_account_at_index" ON "auth_attempts" USING btree ("purpose","account","at");--> statement-breakpoint
CREATE INDEX "auth_attempts_at_index" ON "auth_attempts" USING btree ("at");