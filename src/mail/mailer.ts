import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createTransport, Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';

export interface OutgoingMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Sends participant e-mails with nodemailer over SMTP_URL (TLS as SMTP_REQUIRE_TLS and
 * SMTP_TLS_REJECT_UNAUTHORIZED say). Without SMTP_URL each message is written as an .eml file under
 * DATA_DIR/outbox and logged, so a local start shows what would be sent.
 */
@Injectable()
export class Mailer implements OnModuleDestroy {
  private readonly logger = new Logger('Mail');
  private readonly smtp?: Transporter;
  private readonly files: Transporter;

  constructor(@InjectSettings() private readonly settings: Settings) {
    if (settings.SMTP_URL) {
      this.smtp = createTransport({
        url: settings.SMTP_URL,
        requireTLS: settings.SMTP_REQUIRE_TLS,
        tls: { rejectUnauthorized: settings.SMTP_TLS_REJECT_UNAUTHORIZED },
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      } as SMTPTransport.Options);
    }
    this.files = createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  }

  onModuleDestroy(): void {
    this.smtp?.close();
  }

  /** Sends, or writes the .eml file; returns the message id (or the file's path). Throws when the server refuses. */
  async send(mail: OutgoingMail): Promise<string> {
    const message = {
      from: this.settings.SMTP_FROM,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      headers: { 'X-Campus-Access-Email': mail.id },
    };
    if (this.smtp) {
      const info = (await this.smtp.sendMail(message)) as { messageId: string };
      return info.messageId;
    }
    const info = (await this.files.sendMail(message)) as { message: Buffer };
    const dir = resolve(this.settings.DATA_DIR, 'outbox');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${mail.id}.eml`);
    await writeFile(file, info.message);
    this.logger.log(`No SMTP_URL: e-mail "${mail.subject}" to ${mail.to} written to ${file}`);
    return file;
  }
}
