#include "Logging.h"

Q_LOGGING_CATEGORY(lcHttp, "mcpbroker.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcMcp, "mcpbroker.mcp", QtInfoMsg)
Q_LOGGING_CATEGORY(lcUpstream, "mcpbroker.upstream", QtInfoMsg)
Q_LOGGING_CATEGORY(lcGateway, "mcpbroker.gateway", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStore, "mcpbroker.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcOAuth, "mcpbroker.oauth", QtInfoMsg)
