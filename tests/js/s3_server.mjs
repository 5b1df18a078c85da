// s3_server.mjs PORT DIR [BUCKET...]: an S3-compatible server on 127.0.0.1
// for the object-store tests (@20minutes/s3rver; it verifies SigV4 with the
// key/secret S3RVER/S3RVER). Prints "ready PORT" once listening; runs
// until killed.
import S3rver from '@20minutes/s3rver';

const [port, directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  port: Number(port),
  address: '127.0.0.1',
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port: p } = await server.run();
console.log(`ready ${p}`);
const stop = () => server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
