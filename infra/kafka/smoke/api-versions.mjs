// Compares the protocol versions kafkajs implements with those the broker
// accepts (ApiVersions). kafkajs 2.2.4 sends min(its highest version, the
// broker's highest version) and never looks at the broker's minimum, so an API
// is unusable when the broker's minimum is above kafkajs' highest version
// (what KIP-896 did in Kafka 4.0 for several old versions).
//
//   import { apiCompatibility } from './api-versions.mjs'   (used by smoke.mjs)
//   KAFKA_BROKERS=127.0.0.1:19092 node api-versions.mjs      (prints a table)
import net from 'node:net'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { requests } = require('kafkajs/src/protocol/requests')
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys')

// ApiVersions v0 over a raw socket: every broker version answers v0.
export function brokerApiVersions(hostPort, timeoutMs = 5000) {
  const [host, port] = hostPort.split(':')
  return new Promise((resolve, reject) => {
    const clientId = Buffer.from('api-versions-probe')
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length)
    let o = body.writeInt16BE(18, 0) // ApiVersions
    o = body.writeInt16BE(0, o) // version 0
    o = body.writeInt32BE(1, o) // correlation id
    o = body.writeInt16BE(clientId.length, o)
    clientId.copy(body, o)
    const size = Buffer.alloc(4)
    size.writeInt32BE(body.length)

    const socket = net.connect({ host, port: Number(port) })
    const timer = setTimeout(() => socket.destroy(new Error('ApiVersions timed out')), timeoutMs)
    let buf = Buffer.alloc(0)
    socket.on('connect', () => socket.write(Buffer.concat([size, body])))
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return
      clearTimeout(timer)
      socket.end()
      let p = 8 // size + correlation id
      const errorCode = buf.readInt16BE(p)
      p += 2
      if (errorCode !== 0) return reject(new Error(`ApiVersions error code ${errorCode}`))
      const n = buf.readInt32BE(p)
      p += 4
      const versions = {}
      for (let i = 0; i < n; i++, p += 6) {
        versions[buf.readInt16BE(p)] = { min: buf.readInt16BE(p + 2), max: buf.readInt16BE(p + 4) }
      }
      resolve(versions)
    })
    socket.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

export async function apiCompatibility(hostPort) {
  const broker = await brokerApiVersions(hostPort)
  const rows = []
  for (const [name, definition] of Object.entries(requests)) {
    const implemented = definition.versions.map(Number)
    if (implemented.length === 0) continue // not implemented by kafkajs
    const kjsMax = Math.max(...implemented)
    const b = broker[apiKeys[name]]
    const sent = b ? Math.min(kjsMax, b.max) : null
    rows.push({
      api: name,
      kafkajs: `${Math.min(...implemented)}-${kjsMax}`,
      broker: b ? `${b.min}-${b.max}` : 'absent',
      sends: sent === null ? '-' : `v${sent}`,
      ok: Boolean(b) && sent >= b.min,
    })
  }
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const hostPort = (process.env.KAFKA_BROKERS || '127.0.0.1:19092').split(',')[0].trim()
  const rows = await apiCompatibility(hostPort)
  console.table(rows)
  const bad = rows.filter((r) => !r.ok).map((r) => r.api)
  console.log(bad.length ? `unusable with this broker: ${bad.join(', ')}` : 'every API kafkajs implements is usable')
}
