// A fixture upstream built on the real MCP TypeScript SDK (tests/peers/node_modules) for what
// server-everything never does: closing a request's SSE connection before the response
// (SEP-1699 polling, MCP 2025-11-25 transports). One stateful session, event store, retry 200 ms.
//
//   PORT=<port> node sse-polling-upstream.mjs     prints "listening on port <port>" when ready
//
// With REQUIRE_BEARER=<token>, the SDK's bearer-auth middleware guards /mcp and accepts only
// that token: anything else gets its 401 with a WWW-Authenticate challenge.
//
// Tool "poll-me": sends notifications/message "before close", closes the POST's SSE connection,
// sends "while closed" (stored for replay), waits, then answers "polled". The client must resume
// with GET + Last-Event-ID to see the second message and the result.
import { randomUUID } from 'node:crypto';
import express from 'express';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const port = Number(process.env.PORT || 3992);

// Replays in the order events were stored. (The SDK's example store sorts ids that embed a
// millisecond timestamp and a random suffix, so two events in the same millisecond can swap and
// one is then never replayed.)
class OrderedEventStore {
    events = [];
    async storeEvent(streamId, message) {
        const eventId = `${streamId}_${this.events.length}`;
        this.events.push({ eventId, streamId, message });
        return eventId;
    }
    async getStreamIdForEventId(eventId) {
        return this.events.find((event) => event.eventId === eventId)?.streamId;
    }
    async replayEventsAfter(lastEventId, { send }) {
        const index = this.events.findIndex((event) => event.eventId === lastEventId);
        if (index < 0)
            return '';
        const { streamId } = this.events[index];
        for (const event of this.events.slice(index + 1)) {
            if (event.streamId === streamId)
                await send(event.eventId, event.message);
        }
        return streamId;
    }
}
const mcp = new McpServer({ name: 'sse-polling-fixture', version: '1.0.0' },
                          { capabilities: { logging: {} } });

mcp.registerTool('poll-me', { description: 'Closes its SSE connection before answering.' },
    async (extra) => {
        const log = (data) => extra.sendNotification({
            method: 'notifications/message', params: { level: 'info', data } });
        await log('before close');
        extra.closeSSEStream?.();
        await log('while closed');
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { content: [{ type: 'text', text: 'polled' }] };
    });

const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    eventStore: new OrderedEventStore(),
    retryInterval: 200,
});
await mcp.connect(transport);

const app = express();
const requiredToken = process.env.REQUIRE_BEARER;
if (requiredToken) {
    app.use('/mcp', requireBearerAuth({
        verifier: {
            async verifyAccessToken(token) {
                if (token !== requiredToken)
                    throw new InvalidTokenError('Unknown token');
                return { token, clientId: 'fixture', scopes: [], expiresAt: Date.now() / 1000 + 3600 };
            },
        },
        resourceMetadataUrl: `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`,
    }));
}
app.all('/mcp', (req, res) => {
    if (req.headers['last-event-id'])
        console.log(`resume with Last-Event-ID on ${req.method}`);
    transport.handleRequest(req, res).catch((error) => {
        console.error(error);
        if (!res.headersSent) res.status(500).end();
    });
});
app.listen(port, '127.0.0.1', () => console.error(`listening on port ${port}`));
