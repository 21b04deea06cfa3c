// lx-functions: SAP LeanIX automation on Azure Functions (Flex Consumption, Python 3.11).
//
// Deploy at resource-group scope:
//   az deployment group create -g <rg> --template-file infra/azure/main.bicep \
//     --parameters infra/azure/main.bicepparam
//
// Security model:
// - One user-assigned managed identity does everything at run time: host storage, deployment
//   package download, the application state table, the result and source blob containers,
//   Application Insights ingestion (Entra auth only) and Key Vault references. No storage keys, no instrumentation keys, no connection strings.
// - Two storage accounts, so each gets only the roles its user needs: the HOST account
//   (`AzureWebJobsStorage`: timer locks, host keys, deployment package) and the DATA account
//   (application state in Table storage, Integration API result and source blobs). The app
//   reaches the data account only through `LX_STATE_TABLE_ENDPOINT` and `LX_BLOB_ACCOUNT_URL`; an operator can be granted the data account without
//   getting anything on the host account, and the reverse.
// - Secret VALUES are never in this template or in any parameter file. The secrets are set
//   after deployment with `az keyvault secret set` (see README.md); the app settings hold only
//   `@Microsoft.KeyVault(...)` references to them.
//
// Offline checks (tests/infra): pycep-parser syntax gate + rule asserts, checkov policy gate.
// They do not type-check: run `az deployment group what-if` with Azure access before a release.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@description('Short name used to build resource names (lowercase letters and digits).')
@minLength(2)
@maxLength(10)
param baseName string = 'lxfn'

@description('Azure region for every resource. Must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Tags applied to every resource.')
param tags object = {}

@description('LeanIX token host: a name such as "acme.leanix.net" (https is assumed) or a URL.')
@minLength(1)
param leanixHost string

@description('NCRONTAB (6 fields: second minute hour day month day-of-week, UTC) for the TIME reconcile timer.')
@minLength(11)
param timeReconcileSchedule string = '0 30 2 * * *'

@description('NCRONTAB (6 fields, UTC) for the second timer, which resumes an unfinished TIME reconcile from its checkpoint in the state table.')
@minLength(11)
param timeReconcileResumeSchedule string = '0 */5 * * * *'

@description('Total time budget of one webhook delivery in seconds (a number, may be fractional; validated by the app). Must stay below the time LeanIX waits for an answer.')
@minLength(1)
@maxLength(8)
param webhookDeadlineSeconds string = '5'

@description('LeanIX tag group that holds the TIME classification tags.')
@minLength(1)
@maxLength(255)
param timeTagGroup string = 'TIME Model'

@description('Flex Consumption: upper bound of scale-out instances (40 to 1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Flex Consumption: memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Flex Consumption: spread instances across availability zones. The region must support it (see README).')
param zoneRedundant bool = false

@description('Host storage redundancy. Standard_ZRS keeps the host state available through a zone outage; use Standard_LRS where ZRS is not offered.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSkuName string = 'Standard_ZRS'

@description('Data storage (application state) redundancy. Standard_ZRS survives a zone outage; Standard_GZRS adds a copy in the paired region.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param dataStorageSkuName string = 'Standard_ZRS'

@description('Azure table that holds the application state (checkpoints, leases): 3-63 letters and digits, starting with a letter.')
@minLength(3)
@maxLength(63)
param stateTableName string = 'lxstate'

@description('Blob container of the data account that receives Integration API run results (the app may write there, and nowhere else): 3-63 lowercase letters, digits and single hyphens.')
@minLength(3)
@maxLength(63)
param resultsContainerName string = 'lx-results'

@description('Blob container of the data account that holds inbound blob sources of connectors (the app may only read it).')
@minLength(3)
@maxLength(63)
param sourcesContainerName string = 'lx-sources'

@description('LeanIX requests per minute for the whole deployment: one budget all instances share through the state table (LEANIX_PACE_SCOPE=deployment). Keep it under the workspace\'s rate limit, less what other clients of the workspace use.')
@minValue(1)
@maxValue(1800)
param leanixRequestsPerMinute int = 1500

@description('NCRONTAB (6 fields, UTC) of the notification relay (PULL webhooks, run outcomes, notices to the channels).')
@minLength(11)
param relaySchedule string = '0 */1 * * * *'

@description('NCRONTAB (6 fields, UTC) of the Integration API watch tick, which advances every open connector run.')
@minLength(11)
param integrationWatchSchedule string = '0 */1 * * * *'

@description('NCRONTAB (6 fields, UTC) of the survey scoring timer.')
@minLength(11)
param surveySchedule string = '0 */15 * * * *'

@description('NCRONTAB (6 fields, UTC) of the daily metrics snapshot.')
@minLength(11)
param metricsSchedule string = '0 30 2 * * *'

@description('NCRONTAB (6 fields, UTC) of the weekly data-quality reminders.')
@minLength(11)
param qualitySchedule string = '0 0 7 * * 1'

@description('Optional: send every quality digest to this one address instead of the owners (a trial run). Empty: digests go to the owners.')
param qualityDryRunTo string = ''

@description('Recipient of the e-mail channel "ea-mail" in infra/leanix/notifications.json (archived fact sheets, removed subscriptions, broken seals).')
@minLength(3)
param notifyEmailTo string

@description('The notification rules use the Slack channel "ops-slack": its incoming-webhook URL is the Key Vault secret notify-slack-url. False: the setting stays blank; remove the channel from notifications.json too.')
param slackChannel bool = true

@description('The notification rules use the Teams channel "ops-teams": its workflow URL is the Key Vault secret notify-teams-url. False: the setting stays blank; remove the channel from notifications.json too.')
param teamsChannel bool = true

@description('SMTP server of the e-mail channels. Empty: e-mail notices wait in the outbox until it is set.')
param smtpHost string = ''

@description('SMTP port: 587 with STARTTLS, 465 with implicit TLS (smtpSecurity).')
@minValue(1)
@maxValue(65535)
param smtpPort int = 587

@description('SMTP transport security.')
@allowed([
  'starttls'
  'tls'
])
param smtpSecurity string = 'starttls'

@description('SMTP user name. Not empty: the password is the Key Vault secret smtp-password.')
param smtpUsername string = ''

@description('From address of the e-mails.')
@minLength(3)
param smtpFromAddress string = 'lx-functions@localhost'

@description('Optional: the LeanIX workspace URL that chat and mail messages link to (https://<host>/<workspace>). Empty: links are built from leanixHost and the token\'s workspace.')
param relayWorkspaceUrl string = ''

@description('Webhook secret rotation under way: the app also accepts the Key Vault secret lx-webhook-authorization-next (set it before deploying with true). See README "Rotating the webhook secret".')
param webhookAuthorizationRotation bool = false

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Optional: object id of a user or group that may set the Key Vault secrets (Key Vault Secrets Officer). Empty: no assignment; grant it yourself.')
param secretsOfficerPrincipalId string = ''

@description('Optional: object id of the deployment workflow\'s service principal (the OIDC app). It gets Key Vault Secrets User on the vault, to read the webhook secret and the LeanIX token for `lx config apply`. Empty: no assignment.')
param deploymentPrincipalId string = ''

@description('Principal type of secretsOfficerPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param secretsOfficerPrincipalType string = 'User'

// ---------------------------------------------------------------------------------------------
// Names and constants
// ---------------------------------------------------------------------------------------------

var suffix = uniqueString(subscription().id, resourceGroup().id, baseName)
var identityName = 'id-${baseName}-${suffix}'
// Storage names: 3-24 lowercase letters and digits, globally unique.
var hostStorageAccountName = take(toLower('st${replace(baseName, '-', '')}${suffix}'), 24)
var dataStorageAccountName = take(toLower('st${replace(baseName, '-', '')}data${suffix}'), 24)
var deploymentContainerName = 'app-package-${take(suffix, 7)}'
var logAnalyticsName = 'log-${baseName}-${suffix}'
var appInsightsName = 'appi-${baseName}-${suffix}'
var keyVaultName = take('kv-${baseName}-${suffix}', 24)
var planName = 'plan-${baseName}-${suffix}'
var functionAppName = 'func-${baseName}-${suffix}'

// Secret names in Key Vault. Only the names live here; the values are set out of band.
var leanixApiTokenSecretName = 'leanix-api-token'
var webhookAuthorizationSecretName = 'lx-webhook-authorization'
var webhookAuthorizationNextSecretName = 'lx-webhook-authorization-next'
var slackUrlSecretName = 'notify-slack-url'
var teamsUrlSecretName = 'notify-teams-url'
var smtpPasswordSecretName = 'smtp-password'

// The webhook routes (lx_core/handlers/specs.py; tests/infra/test_settings_drift.py keeps them in
// step), output without keys.
var webhookRoutes = {
  time: 'leanix/time'
  'creator-subscription': 'leanix/creator-subscription'
  'archive-notice': 'leanix/archive-notice'
  'quality-seal-notice': 'leanix/quality-seal-notice'
  'subscription-removed': 'leanix/subscription-removed'
  survey: 'leanix/survey'
}

// Built-in role definition ids (identical in every tenant).
var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

// ---------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
  tags: tags
}

// ---------------------------------------------------------------------------------------------
// Host storage (AzureWebJobsStorage): timer locks, host keys and the deployment package container.
// Nothing of the application lives here.
// ---------------------------------------------------------------------------------------------

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: hostStorageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: storageSkuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: hostStorage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// ---------------------------------------------------------------------------------------------
// Data storage: application state in Table storage, result and source blobs. Hardened like the
// host account; only the app identity's table- and container-scoped roles (below) reach it.
// ---------------------------------------------------------------------------------------------

resource dataStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: dataStorageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: dataStorageSkuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource dataTableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: dataStorage
  name: 'default'
}

// Created here, so the app never needs the right to create tables (its role is scoped to this
// table alone, see stateTableDataContributor).
resource stateTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: dataTableService
  name: stateTableName
}

// Blob containers of the data account: run results out, inbound blob sources in. Both private;
// the app's blob roles are scoped to one container each (see resultsBlobDataContributor and
// sourcesBlobDataReader), so it can neither list nor create containers, nor read the results
// container's neighbours. Soft delete keeps an overwritten or deleted blob for 7 days.
resource dataBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: dataStorage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource resultsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: dataBlobService
  name: resultsContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource sourcesContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: dataBlobService
  name: sourcesContainerName
  properties: {
    publicAccess: 'None'
  }
}

// ---------------------------------------------------------------------------------------------
// Monitoring: Log Analytics + workspace-based Application Insights (Entra-only ingestion)
// ---------------------------------------------------------------------------------------------

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

// ---------------------------------------------------------------------------------------------
// Key Vault (RBAC). Holds leanix-api-token and lx-webhook-authorization, set out of band.
// ---------------------------------------------------------------------------------------------

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Flex Consumption plan and the Function App
// ---------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // LeanIX calls server to server; no browser origin may call the functions.
      cors: {
        allowedOrigins: []
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
  dependsOn: [
    deploymentContainer
  ]
}

// No basic-auth publishing (FTP, SCM): the deployment workflow publishes with its Entra login.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

// App settings live in a child resource so that the identity and its role assignments exist
// before the host starts and resolves the Key Vault references. Setting this resource REPLACES
// every app setting of the site: add new settings here, not in the portal.
//
// checkov applies its `Microsoft.Web/sites/config` checks, written for `config/web`, `config/logs`
// and `config/authsettings`, to every config child. For `config/appsettings` (a plain name->value
// map) they can never pass, so they are suppressed on this resource only, each with its reason:
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  // checkov:skip=CKV_AZURE_13: App Service Authentication lives in config/authsettingsV2, not in app settings; webhooks use function keys plus the LX_WEBHOOK_AUTHORIZATION header
  // checkov:skip=CKV_AZURE_63: HTTP logging is a config/logs property; this app logs to Application Insights
  // checkov:skip=CKV_AZURE_65: detailed error messages are a config/logs property; not an app setting
  // checkov:skip=CKV_AZURE_66: failed request tracing is a config/logs property; not an app setting
  // checkov:skip=CKV_AZURE_80: .NET Framework version check; this is a Python 3.11 app and the property is not an app setting
  // checkov:skip=CKV_AZURE_88: Azure Files mounts are config/azurestorageaccounts; Flex Consumption uses blob deployment storage instead
  // checkov:skip=CKV_AZURE_222: public network access is a site property, skipped globally in .checkov.yaml with its reason
  parent: functionApp
  name: 'appsettings'
  properties: {
    // Host storage through the managed identity (no connection string, no key).
    AzureWebJobsStorage__accountName: hostStorage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.properties.clientId
    // Application Insights with Entra authentication (local auth is disabled on the component).
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
    // lx-functions settings (lx_core/config.py; tests/infra/test_settings_drift.py checks them).
    // Key Vault references carry no version, so a rotated secret is picked up within 24 h or at a
    // restart. A blank setting keeps the app's default (lx_core/config.py): optional ones stay
    // declared, so the template lists every setting the app reads.
    LEANIX_HOST: leanixHost
    LEANIX_API_TOKEN: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=${leanixApiTokenSecretName})'
    LX_WEBHOOK_AUTHORIZATION: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=${webhookAuthorizationSecretName})'
    LX_WEBHOOK_AUTHORIZATION_NEXT: webhookAuthorizationRotation ? '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=${webhookAuthorizationNextSecretName})' : ''
    TIME_RECONCILE_SCHEDULE: timeReconcileSchedule
    TIME_RECONCILE_RESUME_SCHEDULE: timeReconcileResumeSchedule
    TIME_TAG_GROUP: timeTagGroup
    LX_WEBHOOK_DEADLINE_SECONDS: webhookDeadlineSeconds
    // One request budget for the whole deployment (lx_core/leanix/shared_pace.py), kept in the
    // state table; if the store fails, each instance falls back to its share of the maximum count,
    // the same parameter that bounds the plan's scale-out.
    LEANIX_REQUESTS_PER_MINUTE: string(leanixRequestsPerMinute)
    LEANIX_PACE_SCOPE: 'deployment'
    LEANIX_PACE_FALLBACK_INSTANCES: string(maximumInstanceCount)
    // Timers (functions/*.py): the host reads these as %SETTING%.
    LX_RELAY_SCHEDULE: relaySchedule
    LX_INTEGRATION_WATCH_SCHEDULE: integrationWatchSchedule
    LX_SURVEY_SCHEDULE: surveySchedule
    LX_METRICS_SCHEDULE: metricsSchedule
    LX_QUALITY_SCHEDULE: qualitySchedule
    LX_QUALITY_DRY_RUN_TO: qualityDryRunTo
    // The notification relay's channels (infra/leanix/notifications.json placeholders). Chat
    // webhook URLs carry their own credential: Key Vault secrets.
    LX_NOTIFY_SLACK_URL: slackChannel ? '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=${slackUrlSecretName})' : ''
    LX_NOTIFY_TEAMS_URL: teamsChannel ? '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=${teamsUrlSecretName})' : ''
    LX_NOTIFY_EMAIL_TO: notifyEmailTo
    LX_RELAY_WORKSPACE_URL: relayWorkspaceUrl
    LX_SMTP_HOST: smtpHost
    LX_SMTP_PORT: string(smtpPort)
    LX_SMTP_SECURITY: smtpSecurity
    LX_SMTP_USERNAME: smtpUsername
    LX_SMTP_PASSWORD: empty(smtpUsername) ? '' : '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=${smtpPasswordSecretName})'
    LX_SMTP_FROM_ADDRESS: smtpFromAddress
    // Application state: the data account's Table service, through the same identity.
    LX_STATE_TABLE_ENDPOINT: dataStorage.properties.primaryEndpoints.table
    LX_STATE_TABLE_NAME: stateTable.name
    LX_STATE_CLIENT_ID: identity.properties.clientId
    // Integration API results (and inbound blob sources): the data account's Blob service,
    // through the same identity.
    LX_BLOB_ACCOUNT_URL: dataStorage.properties.primaryEndpoints.blob
    LX_BLOB_CLIENT_ID: identity.properties.clientId
    LX_BLOB_RESULTS_CONTAINER: resultsContainer.name
  }
  dependsOn: [
    hostBlobDataOwner
    hostTableDataContributor
    stateTableDataContributor
    resultsBlobDataContributor
    sourcesBlobDataReader
    monitoringMetricsPublisher
    keyVaultSecretsUser
  ]
}

// ---------------------------------------------------------------------------------------------
// Role assignments for the app identity (least privilege, scoped to the single resource)
// ---------------------------------------------------------------------------------------------

// Host account. Source: "Connecting to host storage with an identity" in
// https://learn.microsoft.com/azure/azure-functions/functions-reference
// - Storage Blob Data Owner: the host's minimum ("general coordination and default key store");
//   the timer trigger takes its one-execution-per-event locks in blobs, and Flex Consumption
//   downloads the deployment package from the blob container with this identity.
// - Storage Table Data Contributor: the documented "host only, with support for diagnostic
//   events" set; the host writes diagnostic events to tables in AzureWebJobsStorage, which help
//   most when the app cannot start. Only host data lives in these tables.
// - No Storage Queue Data Contributor: queues in AzureWebJobsStorage serve the blob trigger,
//   Durable Functions and queue triggers; this app has HTTP and timer triggers only.
resource hostBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, identity.id, roleIds.storageBlobDataOwner)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource hostTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, identity.id, roleIds.storageTableDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Data account: table data of the state table only (entity read/write/delete). Scoped to the
// table, not the account: the app cannot list, create or delete other tables, and the blob
// roles on this account (below) stay separate. Table-scoped assignments are supported through ARM (not
// in the portal): https://learn.microsoft.com/azure/storage/tables/assign-azure-role-data-access
resource stateTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(stateTable.id, identity.id, roleIds.storageTableDataContributor)
  scope: stateTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Data account, blobs: write (create, overwrite, read) the results container only. Storage Blob
// Data Contributor is what writing blobs through the SDK needs; Owner would add ACL management,
// which nothing here uses. Source: integration-api-processors.md §5 (Blob output with identity).
resource resultsBlobDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resultsContainer.id, identity.id, roleIds.storageBlobDataContributor)
  scope: resultsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Data account, blobs: read the inbound sources container only. Whoever feeds a blob source
// (an operator, another system) gets its own write role there; the app cannot change its input.
resource sourcesBlobDataReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(sourcesContainer.id, identity.id, roleIds.storageBlobDataReader)
  scope: sourcesContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identity.id, roleIds.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Optional: lets the operator who deploys set the secrets (`az keyvault secret set`).
resource keyVaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(secretsOfficerPrincipalId)) {
  name: guid(keyVault.id, secretsOfficerPrincipalId, roleIds.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: secretsOfficerPrincipalId
    principalType: secretsOfficerPrincipalType
  }
}

// Optional: lets the deployment workflow read the secrets `lx config apply` needs (read only).
resource deploymentSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deploymentPrincipalId)) {
  name: guid(keyVault.id, deploymentPrincipalId, roleIds.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: deploymentPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

output functionAppName string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
@description('LX_FUNCTIONS_BASE_URL for `lx config apply`: the app\'s root URL.')
output functionsBaseUrl string = 'https://${functionApp.properties.defaultHostName}'
@description('Base URL of the HTTP functions; append the route and ?code=<function key>.')
output webhookUrlBase string = 'https://${functionApp.properties.defaultHostName}/api'
@description('Each webhook route\'s URL, without a key: LeanIX calls it with ?code=<function key>.')
output webhookUrls object = {
  time: 'https://${functionApp.properties.defaultHostName}/api/${webhookRoutes.time}'
  'creator-subscription': 'https://${functionApp.properties.defaultHostName}/api/${webhookRoutes['creator-subscription']}'
  'archive-notice': 'https://${functionApp.properties.defaultHostName}/api/${webhookRoutes['archive-notice']}'
  'quality-seal-notice': 'https://${functionApp.properties.defaultHostName}/api/${webhookRoutes['quality-seal-notice']}'
  'subscription-removed': 'https://${functionApp.properties.defaultHostName}/api/${webhookRoutes['subscription-removed']}'
  survey: 'https://${functionApp.properties.defaultHostName}/api/${webhookRoutes.survey}'
}
output keyVaultName string = keyVault.name
output keyVaultUri string = keyVault.properties.vaultUri
output identityClientId string = identity.properties.clientId
@description('The host (AzureWebJobsStorage) storage account.')
output storageAccountName string = hostStorage.name
@description('The data storage account that holds the application state table.')
output dataStorageAccountName string = dataStorage.name
@description('LX_STATE_TABLE_ENDPOINT for the lx CLI: the Table service of the data account.')
output stateTableEndpoint string = dataStorage.properties.primaryEndpoints.table
output stateTableName string = stateTable.name
@description('LX_BLOB_ACCOUNT_URL for the lx CLI: the Blob service of the data account.')
output blobEndpoint string = dataStorage.properties.primaryEndpoints.blob
output resultsContainerName string = resultsContainer.name
output sourcesContainerName string = sourcesContainer.name
output applicationInsightsName string = appInsights.name
