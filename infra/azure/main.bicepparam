// Example parameters for infra/azure/main.bicep. Copy it, adjust, and pass it with
//   az deployment group create -g <rg> --template-file infra/azure/main.bicep --parameters <file>
// (`--template-file` can be left out with a .bicepparam, whose `using` names the template.)
//
// NEVER put secret values here: the LeanIX API token and the webhook authorization value go into
// Key Vault after deployment with `az keyvault secret set` (see infra/azure/README.md).
using './main.bicep'

// Short prefix for resource names (lowercase letters and digits, 2-10 characters).
param baseName = 'lxfn'

// Your LeanIX instance host (the token exchange host); https is assumed.
param leanixHost = 'acme.leanix.net'

// Recipient of the "ea-mail" channel in infra/leanix/notifications.json.
param notifyEmailTo = 'ea-team@acme.example'

// Daily TIME reconcile at 02:30 UTC (NCRONTAB: second minute hour day month day-of-week).
param timeReconcileSchedule = '0 30 2 * * *'

// Every 5 minutes: resume an unfinished reconcile from its checkpoint in the state table.
param timeReconcileResumeSchedule = '0 */5 * * * *'

// Total time budget of one webhook delivery, in seconds (keep it below LeanIX's delivery timeout).
param webhookDeadlineSeconds = '5'

// LeanIX tag group holding the TIME tags.
param timeTagGroup = 'TIME Model'

// Flex Consumption scale and size.
param maximumInstanceCount = 40
param instanceMemoryMB = 2048
param zoneRedundant = false

// Host storage redundancy (Standard_LRS where the region has no ZRS).
param storageSkuName = 'Standard_ZRS'

// Data storage (application state table) redundancy, and the table's name.
param dataStorageSkuName = 'Standard_ZRS'
param stateTableName = 'lxstate'

param logRetentionInDays = 30

// Object id of the person or group that will set the two secrets (az ad signed-in-user show
// --query id -o tsv). Leave empty to grant "Key Vault Secrets Officer" yourself.
param secretsOfficerPrincipalId = ''

param tags = {
  application: 'lx-functions'
}
