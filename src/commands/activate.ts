import { Flags } from '@oclif/core';
import { gatewayView } from '../cli/gateway-view.js';
import { SgwCommand } from '../cli/sgw-command.js';

export default class Activate extends SgwCommand {
  static override aliases = ['gateway:activate'];
  static override summary = 'Activate the gateway: its name, time zone and cloud backend.';
  static override description = `Without backend flags the gateway keeps its data in the embedded local object store under the state directory. With --bucket it uses an S3 bucket, on AWS or on any S3-compatible service given by --endpoint; credentials come from the standard AWS chain (environment, shared config and credentials files with --profile, instance metadata) and are never stored or printed.

The backend is checked with a real request before anything is saved. Running activate again with the same settings changes nothing; other settings need --force.`;

  static override examples = [
    '<%= config.bin %> activate',
    '<%= config.bin %> activate --name branch-office --timezone Europe/Berlin',
    '<%= config.bin %> activate --endpoint https://minio.example.com:9000 --bucket backups --region us-east-1',
    '<%= config.bin %> activate --bucket my-gateway-bucket --region eu-west-1 --profile storage',
  ];

  static override flags = {
    name: Flags.string({ description: 'gateway name (default: the host name)' }),
    timezone: Flags.string({ description: 'IANA time zone for schedules (default: the system time zone)' }),
    endpoint: Flags.string({ description: 'S3-compatible endpoint URL (https:// is assumed)', dependsOn: ['bucket'] }),
    bucket: Flags.string({ description: 'bucket that holds the gateway data' }),
    region: Flags.string({ description: 'bucket region', dependsOn: ['bucket'] }),
    prefix: Flags.string({ description: 'key prefix inside the bucket', dependsOn: ['bucket'] }),
    profile: Flags.string({ description: 'AWS shared-config profile for credentials', dependsOn: ['bucket'] }),
    force: Flags.boolean({ description: 'change the settings of an activated gateway' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Activate);
    const { socket: _socket, json: _json, ...params } = flags;
    const result = await this.call(flags, 'gateway.activate', params);
    await this.show(flags, result, (r) => gatewayView(r.gateway));
  }
}
