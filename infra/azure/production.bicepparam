// Production workspace. Used by .github/workflows/deploy.yml for the `production` environment:
//   az deployment group create -g <rg> --name lx-functions --parameters infra/azure/production.bicepparam
//
// NEVER put secret values here. The secrets (leanix-api-token, lx-webhook-authorization,
// notify-slack-url, notify-teams-url, smtp-password) go into Key Vault after the first deployment
// (README, "Deploy to Azure").
using './main.bicep'

param baseName = 'lxprod'
param leanixHost = 'acme.leanix.net'
param tags = {
  application: 'lx-functions'
  environment: 'production'
}

// Scale and redundancy: zone-redundant where the region offers it, storage in two zones at least.
param maximumInstanceCount = 40
param instanceMemoryMB = 2048
param zoneRedundant = true
param storageSkuName = 'Standard_ZRS'
param dataStorageSkuName = 'Standard_GZRS'
param logRetentionInDays = 90

// One LeanIX budget for every instance, below the workspace limit (other clients use the rest).
param leanixRequestsPerMinute = 1200

// Timers (NCRONTAB with seconds, UTC).
param timeReconcileSchedule = '0 30 2 * * *'
param timeReconcileResumeSchedule = '0 */5 * * * *'
param relaySchedule = '0 */1 * * * *'
param integrationWatchSchedule = '0 */1 * * * *'
param surveySchedule = '0 */15 * * * *'
param metricsSchedule = '0 0 3 * * *'
param qualitySchedule = '0 0 7 * * 1'

// Notifications (infra/leanix/notifications.json).
param notifyEmailTo = 'ea-team@acme.example'
param slackChannel = true
param teamsChannel = true
param smtpHost = 'smtp.office365.com'
param smtpPort = 587
param smtpSecurity = 'starttls'
param smtpUsername = 'lx-functions@acme.example'
param smtpFromAddress = 'lx-functions@acme.example'

// Set to true for the length of a webhook secret rotation only (README, "Rotating the webhook secret").
param webhookAuthorizationRotation = false

// Object id of the group that sets the secrets (az ad group show -g <name> --query id -o tsv).
param secretsOfficerPrincipalId = ''

// Object id of the deployment workflow's service principal (az ad sp show --id <appId> --query id -o tsv):
// it may then read the two secrets `lx config apply` needs.
param deploymentPrincipalId = ''
param secretsOfficerPrincipalType = 'Group'
